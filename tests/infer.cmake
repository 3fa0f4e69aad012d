# infer.cmake - the inference engine (infer/engine.c) against the model's own forward, batch
# invariance of decoding, the sampler against probabilities computed in the test, and errors.
add_executable(test_infer ${CMAKE_CURRENT_LIST_DIR}/test_infer.c)
target_link_libraries(test_infer PRIVATE lam)
target_compile_options(test_infer PRIVATE ${LAM_TEST_WARN})
foreach(t engine_parity batch_invariance sampler engine_errors)
  add_test(NAME infer.${t} COMMAND test_infer ${t})
endforeach()

# answering requests and evaluating: random weights through the real engine under the grammar,
# the metrics, the request JSON, and the command lines (the train_data fixture of train.cmake)
add_executable(test_agent ${CMAKE_CURRENT_LIST_DIR}/test_agent.c)
target_link_libraries(test_agent PRIVATE lam)
target_compile_options(test_agent PRIVATE ${LAM_TEST_WARN})
add_test(NAME infer.act_valid COMMAND test_agent valid ${CMAKE_CURRENT_BINARY_DIR}/train/d.h5
         ${CMAKE_CURRENT_BINARY_DIR}/train)
add_test(NAME infer.act_valid_index COMMAND test_agent valid
         ${CMAKE_CURRENT_BINARY_DIR}/train/d.h5 ${CMAKE_CURRENT_BINARY_DIR}/train index)
add_test(NAME infer.act_valid_labels COMMAND test_agent valid
         ${CMAKE_CURRENT_BINARY_DIR}/train/d.h5 ${CMAKE_CURRENT_BINARY_DIR}/train labels)
add_test(NAME infer.act_valid_bare COMMAND test_agent valid
         ${CMAKE_CURRENT_BINARY_DIR}/train/d.h5 ${CMAKE_CURRENT_BINARY_DIR}/train bare)
add_test(NAME infer.act_valid_spaced COMMAND test_agent valid
         ${CMAKE_CURRENT_BINARY_DIR}/train/d.h5 ${CMAKE_CURRENT_BINARY_DIR}/train spaced)
add_test(NAME infer.history_names COMMAND test_agent names ${CMAKE_CURRENT_BINARY_DIR}/train/d.h5
         ${CMAKE_CURRENT_BINARY_DIR}/train)
add_test(NAME infer.metrics COMMAND test_agent metrics)
add_test(NAME infer.request COMMAND test_agent request)
add_test(NAME infer.cli COMMAND ${CMAKE_CURRENT_LIST_DIR}/infer_cli.sh $<TARGET_FILE:lam_cli>
         ${CMAKE_CURRENT_BINARY_DIR}/train/s.jsonl ${CMAKE_CURRENT_BINARY_DIR}/train/d.h5
         ${CMAKE_CURRENT_BINARY_DIR}/infer_cli)
set_tests_properties(infer.act_valid infer.act_valid_index infer.act_valid_labels
                     infer.act_valid_bare infer.act_valid_spaced infer.history_names infer.cli
                     PROPERTIES FIXTURES_REQUIRED
                     train_data)

# bench/decode.py's engine side (built here, run by the benchmark, not a test)
add_executable(decode_bench ${PROJECT_SOURCE_DIR}/bench/decode_bench.c)
target_link_libraries(decode_bench PRIVATE lam OpenMP::OpenMP_C)
target_compile_options(decode_bench PRIVATE ${LAM_TEST_WARN})
add_test(NAME infer.improve COMMAND ${CMAKE_CURRENT_LIST_DIR}/improve_test.sh $<TARGET_FILE:lam_cli>
         ${CMAKE_CURRENT_BINARY_DIR}/train/s.jsonl ${CMAKE_CURRENT_BINARY_DIR}/train/d.h5
         ${CMAKE_CURRENT_BINARY_DIR}/improve)
set_tests_properties(infer.improve PROPERTIES FIXTURES_REQUIRED train_data)

# the whole path learns: tiny trained on the login app against a random valid-action policy
add_test(NAME quality.learns COMMAND ${CMAKE_CURRENT_LIST_DIR}/quality_test.sh $<TARGET_FILE:lam_cli>
         ${CMAKE_CURRENT_BINARY_DIR}/quality)
set_tests_properties(quality.learns PROPERTIES TIMEOUT 1800)
