// nccl_comm.cu - the CUDA backend's device communicator over NCCL (lam_dcomm, comm.h).
#include "cuda_common.cuh"

namespace LAM_CUDA_NS {

lam_status dcomm_create(lam_backend *be, lam_comm *c, lam_dcomm **out, lam_error *err) {
    *out = nullptr;
    return lam_error_set(err, LAM_ERR_UNSUPPORTED, "%s backend: no device communicator yet",
                         be->name);
}

} // namespace LAM_CUDA_NS
