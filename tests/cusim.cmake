# The simulated CUDA device (cuda/sim/): its own semantics (test_cusim.cpp, one mode a test),
# the renaming of every API call to its stand-in, and a sanitized build; then the CUDA backend
# against the CPU backend (backend.parity_*, backend.ops_*) on the simulated device and, where
# one is present, on a GPU; and the real chip's ptxas report (cuda.ptxas_resources).
if(LAM_CUDA_SIM)
  add_executable(test_cusim ${CMAKE_CURRENT_SOURCE_DIR}/test_cusim.cpp)
  set_target_properties(test_cusim PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
  target_include_directories(test_cusim PRIVATE ${LAM_CUDA_DIR}/sim ${LAM_CUDA_INCLUDE_DIR}
                             ${LAM_NCCL_INCLUDE_DIR})
  target_compile_options(test_cusim PRIVATE -Wall -Wextra -Wno-unused-parameter)
  target_link_libraries(test_cusim PRIVATE lam)
  foreach(mode barrier missing_barrier shuffle vote atomic schedule smem faults memory launch)
    add_test(NAME cusim.${mode} COMMAND test_cusim ${mode})
    set_tests_properties(cusim.${mode} PROPERTIES LABELS cusim TIMEOUT 120)
  endforeach()
  add_test(NAME cusim.symbols COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cusim_symbols.sh
           ${CMAKE_BINARY_DIR}/CMakeFiles/lam_cusim.dir)
  set_tests_properties(cusim.symbols PROPERTIES LABELS cusim)
  # The same with the simulator and the CUDA backend built with ASan and UBSan (their objects
  # lam_cusim_asan linked before liblam, cuda/cuda.cmake): any report fails the test.
  add_executable(test_cusim_asan ${CMAKE_CURRENT_SOURCE_DIR}/test_cusim.cpp
                 $<TARGET_OBJECTS:lam_cusim_asan>)
  add_executable(test_backend_parity_asan ${CMAKE_CURRENT_SOURCE_DIR}/test_backend_parity.c
                 $<TARGET_OBJECTS:lam_cusim_asan>)
  foreach(t test_cusim_asan test_backend_parity_asan)
    set_target_properties(${t} PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON
                          LINKER_LANGUAGE CXX)
    target_include_directories(${t} PRIVATE ${LAM_CUDA_DIR}/sim ${LAM_CUDA_INCLUDE_DIR}
                               ${LAM_NCCL_INCLUDE_DIR})
    target_compile_options(${t} PRIVATE -O1 ${LAM_SANITIZE_FLAGS} -Wall -Wextra
                           -Wno-unused-parameter)
    target_link_options(${t} PRIVATE -fsanitize=address,undefined)
    target_link_libraries(${t} PRIVATE lam m)
  endforeach()
  set(_lam_asan_env "ASAN_OPTIONS=halt_on_error=1:detect_leaks=1"
      "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
  foreach(mode barrier missing_barrier shuffle vote atomic schedule smem faults memory launch)
    add_test(NAME cusim.asan_${mode} COMMAND test_cusim_asan ${mode})
  endforeach()
  add_test(NAME cusim.asan_parity_ops_fp32 COMMAND test_backend_parity_asan cuda-sim-fp32 ops)
  add_test(NAME cusim.asan_parity_ops_bf16 COMMAND test_backend_parity_asan cuda-sim ops)
  add_test(NAME cusim.asan_parity_step COMMAND test_backend_parity_asan cuda-sim-fp32 step)
  get_property(_lam_asan_tests DIRECTORY PROPERTY TESTS)
  foreach(t ${_lam_asan_tests})
    if(t MATCHES "^cusim\\.asan_")
      set_tests_properties(${t} PROPERTIES LABELS "cusim;asan" TIMEOUT 300
                           ENVIRONMENT "${_lam_asan_env}")
    endif()
  endforeach()
endif()

# Every op of the device backends against the CPU backend (ggml's test-backend-ops manner) and
# a whole training step; the simulated device runs each under three schedule orders. Real
# devices ("cuda", "cuda-fp32") exit 77 (skipped) where no GPU is present.
if(LAM_CUDA_SIM OR LAM_CUDA)
  add_executable(test_backend_parity ${CMAKE_CURRENT_SOURCE_DIR}/test_backend_parity.c)
  target_link_libraries(test_backend_parity PRIVATE lam m)
  target_compile_options(test_backend_parity PRIVATE ${LAM_TEST_WARN})
  if(LAM_CUDA_SIM)
    target_include_directories(test_backend_parity PRIVATE ${LAM_CUDA_DIR}/sim)
  endif()
  set(_lam_dev_backends)
  if(LAM_CUDA_SIM)
    list(APPEND _lam_dev_backends cuda-sim-fp32 cuda-sim)
  endif()
  if(LAM_CUDA)
    list(APPEND _lam_dev_backends cuda-fp32 cuda)
  endif()
  foreach(be ${_lam_dev_backends})
    string(REPLACE "-" "_" tname ${be})
    foreach(what ops step)
      add_test(NAME backend.parity_${what}_${tname} COMMAND test_backend_parity ${be} ${what})
      set_tests_properties(backend.parity_${what}_${tname} PROPERTIES LABELS "backend;cusim"
                           SKIP_RETURN_CODE 77 TIMEOUT 300)
    endforeach()
    # the op tests against the double reference and finite differences (fp32 bounds)
    if(be MATCHES "fp32")
      foreach(mode forward backward_fd shape_errors)
        add_test(NAME backend.ops_${mode}_${tname} COMMAND test_backend_ops ${mode} ${be})
        set_tests_properties(backend.ops_${mode}_${tname} PROPERTIES LABELS "backend;cusim"
                             SKIP_RETURN_CODE 77 TIMEOUT 300)
      endforeach()
    endif()
  endforeach()
  if(LAM_CUDA_SIM)
    set_tests_properties(backend.ops_forward_cuda_sim_fp32 PROPERTIES
                         ENVIRONMENT LAM_CUSIM_SCHEDULE=random:7)
  endif()
endif()

# The real chip's build: no kernel may use a stack frame or spill registers (ptxas' report,
# logged by cuda/ptxas_log.sh); the table of registers and shared memory per kernel is written
# to ptxas/report.txt.
if(LAM_CUDA)
  add_test(NAME cuda.ptxas_resources COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cuda_ptxas.sh
           ${CMAKE_BINARY_DIR}/ptxas ${CMAKE_BINARY_DIR}/ptxas/report.txt)
  set_tests_properties(cuda.ptxas_resources PROPERTIES LABELS cuda)
endif()

# Ranks on the simulated device (MPI; skipped without mpirun): the NCCL stand-in's collectives
# and rules, and lam train over 2 ranks with the NCCL communicator against 1 rank.
if(LAM_CUDA_SIM AND LAM_MPI)
  add_executable(test_cusim_nccl ${CMAKE_CURRENT_SOURCE_DIR}/test_cusim_nccl.cpp)
  set_target_properties(test_cusim_nccl PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
  target_include_directories(test_cusim_nccl PRIVATE ${LAM_CUDA_DIR}/sim ${LAM_CUDA_INCLUDE_DIR}
                             ${LAM_NCCL_INCLUDE_DIR})
  target_compile_options(test_cusim_nccl PRIVATE -Wall -Wextra -Wno-unused-parameter)
  target_link_libraries(test_cusim_nccl PRIVATE lam MPI::MPI_C)
  add_test(NAME cusim.nccl_ranks COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cusim_ranks.sh nccl
           $<TARGET_FILE:test_cusim_nccl>)
  add_test(NAME cusim.train_ranks COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cusim_ranks.sh train
           $<TARGET_FILE:lam_cli> ${CMAKE_CURRENT_BINARY_DIR}/train/d.h5
           ${CMAKE_CURRENT_BINARY_DIR}/cusim_ranks)
  set_tests_properties(cusim.nccl_ranks cusim.train_ranks PROPERTIES LABELS cusim
                       SKIP_RETURN_CODE 77 TIMEOUT 600)
  set_tests_properties(cusim.train_ranks PROPERTIES FIXTURES_REQUIRED train_data)
endif()
