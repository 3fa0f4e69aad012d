# Fuzz targets. Each target is a libFuzzer entry point (LLVMFuzzerTestOneInput). Under ctest
# (any compiler) it runs through standalone.c over its corpus plus deterministic mutations;
# with -DLAM_FUZZ=ON and clang, real libFuzzer binaries fuzz_<name>_libfuzzer are built too:
#   CC=clang cmake -B build-fuzz -DLAM_FUZZ=ON && cmake --build build-fuzz --target fuzz_config_libfuzzer
#   ./build-fuzz/tests/fuzz_config_libfuzzer tests/fuzz/corpus/config -max_total_time=60
foreach(name config h5store prompt)
  add_executable(fuzz_${name} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_${name}.c
                 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/standalone.c)
  target_link_libraries(fuzz_${name} PRIVATE lam)
  target_compile_options(fuzz_${name} PRIVATE ${LAM_TEST_WARN})
  add_test(NAME fuzz.${name} COMMAND fuzz_${name} -n 20000
           ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name})
  if(LAM_FUZZ)
    add_executable(fuzz_${name}_libfuzzer ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_${name}.c)
    target_link_libraries(fuzz_${name}_libfuzzer PRIVATE lam)
    target_compile_options(fuzz_${name}_libfuzzer PRIVATE -g -fsanitize=fuzzer,address,undefined
                           -fno-sanitize-recover=undefined)
    target_link_options(fuzz_${name}_libfuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
  endif()
endforeach()

# fuzz.h5store_seeds: the dataset reader's seeds are what their names say (valid_* open and read,
# bad_* are refused). `h5store_seeds make D.h5 DIR` wrote them (docs/dataset-store.md).
add_executable(h5store_seeds ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/h5store_seeds.c)
target_link_libraries(h5store_seeds PRIVATE lam)
target_compile_options(h5store_seeds PRIVATE ${LAM_TEST_WARN})
add_test(NAME fuzz.h5store_seeds COMMAND h5store_seeds check
         ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/h5store)

# fuzz.libfuzzer: builds every libFuzzer target with clang, ASan and UBSan in a build folder
# of its own and runs each for a bounded time (LAM_FUZZ_SECONDS, default 20) over a copy of
# its seed corpus. Skips (77) where clang or its fuzzer runtime is missing.
if(NOT LAM_FUZZ)
  add_test(NAME fuzz.libfuzzer COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_libfuzzer.sh
           ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/fuzz-clang)
  set_tests_properties(fuzz.libfuzzer PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1200 LABELS fuzz
                       RUN_SERIAL TRUE)
endif()

# fuzz.triage: how tests/fuzz/triage.py sorts findings (ours, libhdf5's listed bugs, the
# sanitizer runtime's own failures), with a stub for the fuzz binary; needs no clang.
add_test(NAME fuzz.triage COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/test_triage.py
         ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/triage.py)
set_tests_properties(fuzz.triage PROPERTIES LABELS fuzz)
