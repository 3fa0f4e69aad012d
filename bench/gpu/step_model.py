#!/usr/bin/env python3
"""step_model.py - a training step of lamkit's CUDA backend on paper: FLOPs, DRAM bytes and
kernel launches per op, as src/model.c calls the backend and cuda/ implements each op, and
the step time they imply on a GPU of given rates (a roofline per op plus a launch cost).

    python3 bench/gpu/step_model.py [--config small|124m] [--batch B] [--seq T] [--json]

Assumptions, stated so the figures can be checked: every tensor is fp32 in memory (bf16 mode
rounds matmul operands inside cuBLASLt); each op reads its inputs and writes its outputs once
(caches ignored, which favours small models); the attention products are computed over the
full T x T (the implementation masks after the product) and the probabilities (B,H,T,T) are
materialized, written and read as cuda/attention.cu does; "model FLOPs" count causal attention
over (T+1)/2 keys (lam_config_train_flops_per_token) and are what MFU is measured against.
Rates: H100 SXM, 989 TFLOP/s dense bf16 tensor cores, 3.35 TB/s HBM3; launch cost 4 us a
kernel or cuBLASLt call, 15 us a host synchronization (the input checks).
"""
import argparse
import json

CONFIGS = {
    # lamkit's `small` preset (docs/model.md)
    "small": dict(V=4096, D=256, L=4, H=4, KV=2, F=768, tied=True, B=8, T=256),
    # a GPT-2-small-sized Llama: 124M parameters with GPT-2's padded vocabulary
    "124m": dict(V=50304, D=768, L=12, H=12, KV=12, F=2048, tied=True, B=16, T=1024),
}
PEAK_BF16 = 989e12
HBM = 3.35e12
LAUNCH = 4e-6
SYNC = 15e-6


def step_ops(c, B, T):
    V, D, L, H, KV, F = c["V"], c["D"], c["L"], c["H"], c["KV"], c["F"]
    hd = D // H
    C3 = (H + 2 * KV) * hd
    N = B * T
    f = 4  # bytes of an fp32 element
    ops = []  # (name, flops, bytes, launches, syncs)

    def mm(name, m, n, k, batch=1, calls=1, beta=0):
        # reads A (m,k) and B (k,n) (fp32), writes C (m,n) (and reads it when beta != 0)
        by = f * batch * (m * k + k * n + m * n * (2 if beta else 1))
        ops.append((name, 2.0 * m * n * k * batch, by, calls, 0))

    def ew(name, elems_rw, launches=1, syncs=0, flops=0.0):
        ops.append((name, flops, f * elems_rw, launches, syncs))

    # forward
    ew("embedding_fwd", N + 2 * N * D, launches=2, syncs=1)
    for _ in range(L):
        ew("rmsnorm_fwd", 2 * N * D + N + D)
        mm("matmul_qkv", N, C3, D)
        ew("rope", 2 * N * (H + KV) * hd)
        ew("seg_check", 2 * N, syncs=1)
        mm("attention S = QK^T", T, T, hd, batch=B * H, calls=H)
        ew("causal_softmax", 2 * B * H * T * T)
        mm("attention O = PV", hd, T, T, batch=B * H, calls=H)
        ew("residual_copy", 2 * N * D)
        mm("matmul_o (+resid)", N, D, H * hd, beta=1)
        ew("rmsnorm_fwd", 2 * N * D + N + D)
        mm("matmul_gate_up", N, 2 * F, D)
        ew("swiglu_fwd", 3 * N * F)
        ew("residual_copy", 2 * N * D)
        mm("matmul_down (+resid)", N, D, F, beta=1)
    ew("rmsnorm_fwd", 2 * N * D + N + D)
    mm("lm_head", N, V, D)
    ew("cross_entropy (fused, dlogits in place)", 3 * N * V, syncs=2)
    # backward
    mm("lm_head dx", N, D, V)
    mm("lm_head dw (+=)", V, D, N, beta=1)
    ew("rmsnorm_bwd", 4 * N * D, launches=2)
    for _ in range(L):
        mm("matmul_down dx", N, F, D)
        mm("matmul_down dw", D, F, N, beta=1)
        ew("swiglu_bwd", 5 * N * F)
        mm("matmul_gate_up dx", N, D, 2 * F)
        mm("matmul_gate_up dw", 2 * F, D, N, beta=1)
        ew("rmsnorm_bwd", 5 * N * D, launches=2)
        mm("matmul_o dx", N, H * hd, D)
        mm("matmul_o dw", D, H * hd, N, beta=1)
        ew("seg_check", 2 * N, syncs=1)
        mm("attention dV", hd, T, T, batch=B * H, calls=H, beta=1)
        mm("attention dP", T, T, hd, batch=B * H, calls=H)
        ew("softmax_bwd", 3 * B * H * T * T)
        mm("attention dQ", hd, T, T, batch=B * H, calls=H)
        mm("attention dK", hd, T, T, batch=B * H, calls=H, beta=1)
        ew("rope inverse", 2 * N * (H + KV) * hd)
        mm("matmul_qkv dx", N, D, C3)
        mm("matmul_qkv dw", C3, D, N, beta=1)
        ew("rmsnorm_bwd", 5 * N * D, launches=2)
    ew("embedding_bwd", 2 * N * D + N + V * D, syncs=1)
    P = (V * D + L * (2 * D + C3 * D + D * H * hd + 2 * F * D + D * F) + D
         + (0 if c["tied"] else V * D))
    ew("zero_grad", P)
    ew("sum_squares", P, launches=2)
    ew("adamw", 7 * P)
    return ops, P


def model_flops_per_token(c, T):  # lam_config_train_flops_per_token
    V, D, L, H, KV, F = c["V"], c["D"], c["L"], c["H"], c["KV"], c["F"]
    hd = D // H
    C3 = (H + 2 * KV) * hd
    mp = L * (C3 * D + D * H * hd + 3 * F * D) + V * D
    attn = L * 2.0 * 2.0 * H * hd * (T + 1.0) / 2.0
    return 3.0 * (2.0 * mp + attn)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="small", choices=CONFIGS)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--seq", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    c = CONFIGS[a.config]
    B, T = a.batch or c["B"], a.seq or c["T"]
    ops, P = step_ops(c, B, T)
    flops = sum(o[1] for o in ops)
    by = sum(o[2] for o in ops)
    launches = sum(o[3] for o in ops)
    syncs = sum(o[4] for o in ops)
    t_ops = sum(max(o[1] / PEAK_BF16, o[2] / HBM) for o in ops)
    t = t_ops + launches * LAUNCH + syncs * SYNC
    mf = model_flops_per_token(c, T) * B * T
    r = {"config": a.config, "params": P, "batch": B, "seq": T, "tokens": B * T,
         "model_gflop": round(mf / 1e9, 2), "executed_gflop": round(flops / 1e9, 2),
         "dram_gb": round(by / 1e9, 3), "launches": launches, "syncs": syncs,
         "roofline_ms": round(t_ops * 1e3, 3), "launch_ms": round((launches * LAUNCH + syncs * SYNC) * 1e3, 3),
         "step_ms": round(t * 1e3, 3), "tok_s": round(B * T / t), "mfu_pct": round(100 * mf / t / PEAK_BF16, 1)}
    if a.json:
        print(json.dumps(r))
        return
    for k, v in r.items():
        print(f"{k:16s} {v}")


if __name__ == "__main__":
    main()
