# serve.cmake - `lam serve` (infer/server*.c, docs/http-api.md). The real binary is started on a
# free port (port 0, read back from its log line) with a tiny model trained here for 30 steps on
# the train_data fixture's store (fixture serve_ckpt; enough that its greedy answers end within
# its 1024 positions), and driven by independent clients:
#   serve.curl           curl, with Python's json checking every answer against its observation,
#                        sessions, every kind of bad request, the API key, the metrics (Python's
#                        prometheus_client parses them), the command line's errors
#   serve.openai_client  the official openai npm client: models, chat completions with tools,
#                        streaming, concurrent clients, multi-turn history, its error classes
#   serve.abuse          malformed, truncated, oversized, slow and random requests on raw
#                        sockets, then the server still answers as before
#   serve.shutdown       SIGTERM with requests in flight: each answered, exit 0
# and, without HTTP, the parsers, the session store, the metrics and action-type restriction
# (test_serve.c), and the request parsers' fuzz target.
set(_sv_dir ${CMAKE_CURRENT_BINARY_DIR}/serve)
file(MAKE_DIRECTORY ${_sv_dir})
add_test(NAME serve.checkpoint COMMAND sh -c
         "rm -rf $1/run && $0 train --data $2 --model tiny --seq 256 --batch 4 --steps 30 --warmup 1 --quiet --eval-every 0 --eval-rows 4 --out $1/run >/dev/null"
         $<TARGET_FILE:lam_cli> ${_sv_dir} ${CMAKE_CURRENT_BINARY_DIR}/train/d.h5)
set_tests_properties(serve.checkpoint PROPERTIES FIXTURES_SETUP serve_ckpt
                     FIXTURES_REQUIRED train_data)
foreach(t curl openai_client abuse shutdown)
  add_test(NAME serve.${t} COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_serve.sh ${t}
           $<TARGET_FILE:lam_cli> ${_sv_dir}/run/ckpt-00000030.h5
           ${CMAKE_CURRENT_BINARY_DIR}/train/s.jsonl ${_sv_dir}/${t} ${PROJECT_SOURCE_DIR})
  set_tests_properties(serve.${t} PROPERTIES FIXTURES_REQUIRED "serve_ckpt;train_data"
                       SKIP_RETURN_CODE 77 TIMEOUT 300)
endforeach()

add_executable(test_serve ${CMAKE_CURRENT_LIST_DIR}/test_serve.c)
target_link_libraries(test_serve PRIVATE lam)
target_compile_options(test_serve PRIVATE ${LAM_TEST_WARN})
foreach(t chat request stream_actions sessions metrics)
  add_test(NAME serve.${t} COMMAND test_serve ${t})
endforeach()
add_test(NAME serve.types COMMAND test_serve types ${_sv_dir}/run/ckpt-00000030.h5)
set_tests_properties(serve.types PROPERTIES FIXTURES_REQUIRED serve_ckpt)

# fuzz.request: the request parsers from any bytes (tests/fuzz/fuzz_request.c), registered here as
# grammar.cmake registers fuzz_grammar. With -DLAM_FUZZ=ON and clang, fuzz_request_libfuzzer
# too (fuzz.libfuzzer runs it over tests/fuzz/corpus/request):
#   ./build-fuzz/tests/fuzz_request_libfuzzer -max_total_time=180 NEW_DIR tests/fuzz/corpus/request
add_executable(fuzz_request ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_request.c
               ${CMAKE_CURRENT_LIST_DIR}/fuzz/standalone.c)
target_link_libraries(fuzz_request PRIVATE lam)
target_compile_options(fuzz_request PRIVATE ${LAM_TEST_WARN})
add_test(NAME fuzz.request COMMAND fuzz_request -n 20000
         ${CMAKE_CURRENT_LIST_DIR}/fuzz/corpus/request)
if(LAM_FUZZ)
  add_executable(fuzz_request_libfuzzer ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_request.c)
  target_link_libraries(fuzz_request_libfuzzer PRIVATE lam)
  target_compile_options(fuzz_request_libfuzzer PRIVATE -g -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=undefined)
  target_link_options(fuzz_request_libfuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
endif()
