# Constrained action decoding (infer/grammar.c): completeness on recorded actions and random
# valid lists, soundness of random-logit decodes on simulator and made-up observations, the fast
# mask against the naive one, errors, no allocation while decoding, copied values, the date
# mentions (infer/dates.c); the fuzz target; the mask
# benchmark (bench/grammar_bench.c, not a test).
add_executable(test_grammar ${CMAKE_CURRENT_SOURCE_DIR}/test_grammar.c)
target_link_libraries(test_grammar PRIVATE lam)
target_compile_options(test_grammar PRIVATE ${LAM_TEST_WARN})
target_link_options(test_grammar PRIVATE -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc)
foreach(t complete sound adversarial naive errors no_alloc copy lead_space dates labels)
  add_test(NAME grammar.${t} COMMAND test_grammar ${t})
endforeach()

# bench/grammar_bench.c: mask microseconds per token, ours (trie + caches) against the naive
# mask in the same process; one JSON line per result (bench/README.md).
add_executable(grammar_bench ${PROJECT_SOURCE_DIR}/bench/grammar_bench.c)
target_link_libraries(grammar_bench PRIVATE lam)
target_compile_options(grammar_bench PRIVATE ${LAM_WARN} ${LAM_OPT})
target_compile_definitions(grammar_bench PRIVATE LAM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# fuzz.grammar: observations, limits and token choices from any bytes (tests/fuzz/fuzz_grammar.c,
# registered here as actlang.cmake registers fuzz_actlang). With -DLAM_FUZZ=ON and clang,
# fuzz_grammar_libfuzzer too (fuzz.libfuzzer runs it over tests/fuzz/corpus/grammar):
#   ./build-fuzz/tests/fuzz_grammar_libfuzzer -max_total_time=180 NEW_DIR tests/fuzz/corpus/grammar
add_executable(fuzz_grammar ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_grammar.c
               ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/standalone.c)
target_link_libraries(fuzz_grammar PRIVATE lam)
target_compile_options(fuzz_grammar PRIVATE ${LAM_TEST_WARN})
add_test(NAME fuzz.grammar COMMAND fuzz_grammar -n 20000 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/grammar)
if(LAM_FUZZ)
  add_executable(fuzz_grammar_libfuzzer ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_grammar.c)
  target_link_libraries(fuzz_grammar_libfuzzer PRIVATE lam)
  target_compile_options(fuzz_grammar_libfuzzer PRIVATE -g -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=undefined)
  target_link_options(fuzz_grammar_libfuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
endif()
