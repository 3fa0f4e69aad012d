/* cusim_names.h - owns the renaming of every cudart, cuBLASLt and NCCL entry point the CUDA
 * backend calls to its simulated stand-in (lam_cusim_<name>). Included before NVIDIA's
 * headers, so their declarations are renamed too: each stand-in is then defined against the
 * real declaration (extern "C"), and a stand-in whose signature differs does not compile.
 * Renaming lets the real backend (linked to the real libraries) and the simulated one live
 * in one library. A call the backend makes to an API missing here stays unrenamed and is
 * caught by the cusim.symbols test (no undefined cuda*, cublas* or nccl* symbol in the
 * simulated objects). */
#ifndef LAM_CUSIM_NAMES_H
#define LAM_CUSIM_NAMES_H

/* cudart */
#define cudaMalloc                lam_cusim_cudaMalloc
#define cudaFree                  lam_cusim_cudaFree
#define cudaMemcpy                lam_cusim_cudaMemcpy
#define cudaMemcpyAsync           lam_cusim_cudaMemcpyAsync
#define cudaMemset                lam_cusim_cudaMemset
#define cudaMemsetAsync           lam_cusim_cudaMemsetAsync
#define cudaStreamCreate          lam_cusim_cudaStreamCreate
#define cudaStreamCreateWithFlags lam_cusim_cudaStreamCreateWithFlags
#define cudaStreamDestroy         lam_cusim_cudaStreamDestroy
#define cudaStreamSynchronize     lam_cusim_cudaStreamSynchronize
#define cudaDeviceSynchronize     lam_cusim_cudaDeviceSynchronize
#define cudaGetLastError          lam_cusim_cudaGetLastError
#define cudaPeekAtLastError       lam_cusim_cudaPeekAtLastError
#define cudaGetErrorString        lam_cusim_cudaGetErrorString
#define cudaGetErrorName          lam_cusim_cudaGetErrorName
#define cudaGetDeviceCount        lam_cusim_cudaGetDeviceCount
#define cudaGetDevice             lam_cusim_cudaGetDevice
#define cudaSetDevice             lam_cusim_cudaSetDevice
#define cudaMemGetInfo            lam_cusim_cudaMemGetInfo

/* cuBLASLt */
#define cublasLtCreate                        lam_cusim_cublasLtCreate
#define cublasLtDestroy                       lam_cusim_cublasLtDestroy
#define cublasLtGetStatusString               lam_cusim_cublasLtGetStatusString
#define cublasLtGetStatusName                 lam_cusim_cublasLtGetStatusName
#define cublasLtMatmulDescInit_internal       lam_cusim_cublasLtMatmulDescInit_internal
#define cublasLtMatmulDescSetAttribute        lam_cusim_cublasLtMatmulDescSetAttribute
#define cublasLtMatrixLayoutInit_internal     lam_cusim_cublasLtMatrixLayoutInit_internal
#define cublasLtMatrixLayoutSetAttribute      lam_cusim_cublasLtMatrixLayoutSetAttribute
#define cublasLtMatmulPreferenceInit_internal lam_cusim_cublasLtMatmulPreferenceInit_internal
#define cublasLtMatmulPreferenceSetAttribute  lam_cusim_cublasLtMatmulPreferenceSetAttribute
#define cublasLtMatmulAlgoGetHeuristic        lam_cusim_cublasLtMatmulAlgoGetHeuristic
#define cublasLtMatmul                        lam_cusim_cublasLtMatmul

/* NCCL */
#define ncclGetUniqueId       lam_cusim_ncclGetUniqueId
#define ncclCommInitRank      lam_cusim_ncclCommInitRank
#define ncclCommDestroy       lam_cusim_ncclCommDestroy
#define ncclCommAbort         lam_cusim_ncclCommAbort
#define ncclCommGetAsyncError lam_cusim_ncclCommGetAsyncError
#define ncclGetErrorString    lam_cusim_ncclGetErrorString
#define ncclAllReduce         lam_cusim_ncclAllReduce
#define ncclReduceScatter     lam_cusim_ncclReduceScatter
#define ncclAllGather         lam_cusim_ncclAllGather
#define ncclGroupStart        lam_cusim_ncclGroupStart
#define ncclGroupEnd          lam_cusim_ncclGroupEnd

#endif
