# train.cmake - the trainer (train/, src/checkpoint.c): a small dataset store made with the real
# binary (fixture train_data), the loader's packing against the store, the learning-rate schedule
# against its closed form, checkpoint round trips and errors, bitwise resume after SIGTERM, 2 MPI
# ranks against 1 rank, and the command line's errors.
add_executable(test_train ${CMAKE_CURRENT_LIST_DIR}/test_train.c)
target_link_libraries(test_train PRIVATE lam PkgConfig::HDF5)
target_compile_options(test_train PRIVATE ${LAM_TEST_WARN})

set(_tr_dir ${CMAKE_CURRENT_BINARY_DIR}/train)
file(MAKE_DIRECTORY ${_tr_dir})
add_test(NAME train.data COMMAND sh -c
         "$0 data synth --episodes 150 --seed 3 --valid 0.2 --holdout-apps todo --quiet --out $1/s.jsonl && $0 data tokenizer train --vocab 1024 --out $1/tok.json $1/s.jsonl >/dev/null 2>&1 && $0 data build $1/s.jsonl --tokenizer $1/tok.json --out $1/d.h5 -q >/dev/null"
         $<TARGET_FILE:lam_cli> ${_tr_dir})
set_tests_properties(train.data PROPERTIES FIXTURES_SETUP train_data)
add_test(NAME train.loader COMMAND test_train loader ${_tr_dir}/d.h5)
add_test(NAME train.lr COMMAND test_train lr)
add_test(NAME train.checkpoint COMMAND test_train checkpoint ${_tr_dir} ${_tr_dir}/d.h5)
foreach(m resume_bitwise mpi_ranks time_budget cli)
  add_test(NAME train.${m} COMMAND ${CMAKE_CURRENT_LIST_DIR}/train_test.sh ${m}
           $<TARGET_FILE:lam_cli> ${_tr_dir}/d.h5 ${_tr_dir}/${m})
  set_tests_properties(train.${m} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()
set_tests_properties(train.loader train.checkpoint train.resume_bitwise train.mpi_ranks
                     train.time_budget train.cli
                     PROPERTIES FIXTURES_REQUIRED train_data)

# fuzz.checkpoint: the checkpoint reader on any bytes (tests/fuzz/fuzz_checkpoint.c, from memory
# through lam_ckpt_read_image) over its seeds and 5000 mutations; with -DLAM_FUZZ=ON and clang,
# fuzz_checkpoint_libfuzzer too, which fuzz.libfuzzer runs (settings checkpoint.options, library
# findings sorted against checkpoint.known). fuzz.checkpoint_seeds: the seeds are what their names
# say (`checkpoint_seeds make DIR` wrote them).
add_executable(fuzz_checkpoint ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_checkpoint.c
               ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/standalone.c)
target_link_libraries(fuzz_checkpoint PRIVATE lam)
target_compile_options(fuzz_checkpoint PRIVATE ${LAM_TEST_WARN})
add_test(NAME fuzz.checkpoint COMMAND fuzz_checkpoint -n 5000
         ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/checkpoint)
add_executable(checkpoint_seeds ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/checkpoint_seeds.c)
target_link_libraries(checkpoint_seeds PRIVATE lam PkgConfig::HDF5)
target_compile_options(checkpoint_seeds PRIVATE ${LAM_TEST_WARN})
add_test(NAME fuzz.checkpoint_seeds COMMAND checkpoint_seeds check
         ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/checkpoint)
if(LAM_FUZZ)
  add_executable(fuzz_checkpoint_libfuzzer ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_checkpoint.c)
  target_link_libraries(fuzz_checkpoint_libfuzzer PRIVATE lam)
  target_compile_options(fuzz_checkpoint_libfuzzer PRIVATE -g -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=undefined)
  target_link_options(fuzz_checkpoint_libfuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
endif()
