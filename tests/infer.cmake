# infer.cmake - the inference engine (infer/engine.c) against the model's own forward, batch
# invariance of decoding, the sampler against probabilities computed in the test, and errors.
add_executable(test_infer ${CMAKE_CURRENT_LIST_DIR}/test_infer.c)
target_link_libraries(test_infer PRIVATE lam)
target_compile_options(test_infer PRIVATE ${LAM_TEST_WARN})
foreach(t engine_parity batch_invariance sampler engine_errors)
  add_test(NAME infer.${t} COMMAND test_infer ${t})
endforeach()
