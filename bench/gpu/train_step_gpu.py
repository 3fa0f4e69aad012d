#!/usr/bin/env python3
"""train_step_gpu.py - the training-step benchmark on a GPU: `lam bench --backend cuda` (bf16
tensor cores, fp32 master weights) and `--backend cuda-fp32` against the same model in PyTorch
(tests/torch_model.py) on the same GPU, bf16 autocast and fused AdamW, alternating rounds in
one invocation. One JSON line per config and backend on stdout (bench/README.md's fields plus
"mfu_pct": model FLOPs per step (lam_config_train_flops_per_token) times steps per second over
the GPU's dense bf16 peak). Run by bench/gpu/run.sh; the peer is reported as unavailable when
the Python on the machine has no CUDA-enabled torch.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))

# dense bf16 tensor-core peaks (TFLOP/s), by the name nvidia-smi reports
PEAKS = {"H200": 989.0, "H100 SXM": 989.0, "H100 80GB HBM3": 989.0, "H100 PCIe": 756.0,
         "H100": 756.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0}

SMALL = None  # the preset, from lam itself
M124 = {"vocab_size": 50304, "dim": 768, "n_layers": 12, "n_heads": 12, "n_kv_heads": 12,
        "ffn_dim": 2048, "max_seq_len": 1024, "rope_theta": 10000.0, "norm_eps": 1e-5,
        "tie_embeddings": True, "init_std": 0.02}
CONFIGS = {"small": ("small", 8, 256, 50), "124m": (M124, 16, 1024, 10)}


def gpu_name():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
        return out.splitlines()[0] if out else "unknown GPU"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown GPU"


def peak_tflops(name, override):
    if override:
        return override
    for k, v in PEAKS.items():
        if k in name:
            return v
    return 0.0


def commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip() or "none"
    except OSError:
        return "none"


def run_ours(lam, backend, model, B, T, steps, warmup):
    cmd = [lam, "bench", "--backend", backend, "--model", model, "--batch", str(B), "--seq",
           str(T), "--steps", str(steps), "--warmup", str(warmup), "--json", "--no-sgemm"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return json.loads([ln for ln in p.stdout.splitlines() if ln.startswith("{")][-1])


class Peer:
    def __init__(self, cfg, B, T, steps, warmup):
        import torch
        import torch_model as tm
        self.torch = torch
        self.c = tm.Config(cfg)
        self.B, self.T, self.steps, self.warmup = B, T, steps, warmup
        torch.manual_seed(1234)
        self.model = tm.LamTorchModel(self.c, packed=True).cuda()
        self.opt = torch.optim.AdamW(self.model.adamw_groups(0.1), lr=1e-3, betas=(0.9, 0.95),
                                     eps=1e-8, fused=True)
        seq = torch.randint(0, self.c.vocab_size, (B, T + 1), device="cuda")
        self.tokens, self.targets = seq[:, :-1].contiguous(), seq[:, 1:].contiguous()
        self.params = list(self.model.parameters())

    def step(self):
        torch = self.torch
        self.opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            _, loss = self.model(self.tokens, self.targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.opt.step()

    def round(self):
        for _ in range(self.warmup):
            self.step()
        self.torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(self.steps):
            self.step()
        self.torch.cuda.synchronize()
        return self.B * self.T * self.steps / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lam", default=os.path.join(ROOT, "build-gpu", "lam"))
    ap.add_argument("--configs", default="small,124m")
    ap.add_argument("--backends", default="cuda,cuda-fp32")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--peak-tflops", type=float, default=0.0)
    ap.add_argument("--smoke", action="store_true",
                    help="batch 1, 16 positions, 1 step: checks the plumbing (e.g. on cuda-sim)")
    ap.add_argument("--record", action="store_true",
                    help="append the lines to bench/results/<gpu>-<date>.jsonl")
    a = ap.parse_args()
    name = gpu_name()
    peak = peak_tflops(name, a.peak_tflops)
    sha = commit()
    try:
        import torch
        peer_ok = torch.cuda.is_available()
        peer_name = f"pytorch-{torch.__version__}-bf16-autocast"
    except ImportError:
        peer_ok, peer_name = False, "pytorch (not installed)"
    lines = []
    tmp = tempfile.mkdtemp()
    for cname in a.configs.split(","):
        cfg, B, T, steps = CONFIGS[cname]
        if a.smoke:
            B, T, steps, a.warmup = 1, 16, 1, 0
        model = cfg
        if isinstance(cfg, dict):
            model = os.path.join(tmp, f"{cname}.json")
            with open(model, "w") as f:
                json.dump(cfg, f)
        peer = None
        if peer_ok:
            import torch_model as tm
            peer = Peer(tm.PRESETS[cfg] if isinstance(cfg, str) else cfg, B, T, steps, a.warmup)
        for be in a.backends.split(","):
            ours, peers, flops = [], [], []
            for r in range(a.rounds):
                o = run_ours(a.lam, be, model, B, T, steps, a.warmup)
                ours.append(o["ours"])
                flops.append(o["gflops"] * 1e9 / o["ours"])
                if peer:
                    peers.append(peer.round())
                sys.stderr.write(f"[gpu] {cname} {be} round {r + 1}: ours {ours[-1]:.0f} tok/s"
                                 + (f", peer {peers[-1]:.0f} tok/s" if peers else "") + "\n")
            best, fpt = max(ours), statistics.median(flops)
            pb = max(peers) if peers else None
            line = {"bench": "train_step_gpu", "config": cname, "backend": be,
                    "ours": round(best, 1), "peer": round(pb, 1) if pb else None,
                    "peer_name": peer_name if pb else "unavailable",
                    "ratio": round(best / pb, 3) if pb else None, "unit": "tok/s",
                    "threads": os.cpu_count(), "commit": sha, "machine": name, "batch": B,
                    "seq": T, "steps": steps, "rounds": a.rounds,
                    "model_gflop_per_step": round(fpt * B * T / 1e9, 2),
                    "ours_tflops": round(best * fpt / 1e12, 2),
                    "mfu_pct": round(100 * best * fpt / (peak * 1e12), 1) if peak else None,
                    "peer_mfu_pct": round(100 * pb * fpt / (peak * 1e12), 1) if pb and peak
                    else None, "peak_tflops_bf16": peak or None}
            print(json.dumps(line), flush=True)
            lines.append(line)
    if a.record and lines:
        slug = "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")
        path = os.path.join(ROOT, "bench", "results",
                            f"{slug}-{datetime.date.today().isoformat()}.jsonl")
        with open(path, "a") as f:
            for ln in lines:
                f.write(json.dumps(ln) + "\n")
        sys.stderr.write(f"[gpu] recorded in {path}\n")


if __name__ == "__main__":
    main()
