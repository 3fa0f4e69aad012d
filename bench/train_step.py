#!/usr/bin/python3
"""train_step.py - the training-step benchmark: lamkit's `lam bench` against the same model in
plain PyTorch (tests/torch_model.py), on the CPU, with the same threads, batch and step
(forward, backward, gradient-norm clipping at 1.0, AdamW).

Run with /usr/bin/python3 (Debian's python3-torch) from anywhere; see bench/README.md.

In one invocation, for each config, the two programs alternate for --rounds rounds; each
round runs its own warmup steps (not timed) and then --steps timed steps, and the result of
each side is the best (highest tok/s) of its rounds (--stat median for the median). In every
round the peer times both of its layouts (separate q/k/v and gate/up projections, the HF
Llama way, and packed qkv and gate_up projections); its figure is its better layout's, so it
runs at its best settings. One JSON line per config on stdout:

  {"bench":"train_step","config":"small","ours":tok/s,"peer":tok/s,"peer_name":"pytorch-1.13.0",
   "ratio":ours/peer,"unit":"tok/s","threads":K,"commit":"abc1234","machine":"AMD EPYC",
   "ours_gflops":...,"sgemm_gflops":...,"pct_sgemm":...,"peer_gflops":...,...}

GFLOP/s of both sides use lamkit's count of the FLOPs of a training step
(lam_config_train_flops_per_token), taken from `lam bench`'s own figures.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> (lamkit preset, batch, seq, timed steps per round): a step takes well under ~3 s
# on a 2-core machine.
CONFIGS = {
    "small": ("small", 8, 256, 10),
    "30m": ("base", 4, 256, 5),
}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="small,30m",
                    help="comma-separated, of: " + ", ".join(CONFIGS) + " [small,30m]")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="threads of both programs [all cores: %(default)s]")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds [3]")
    ap.add_argument("--steps", type=int, default=0,
                    help="timed steps per round [per config: small 10, 30m 5]")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps per round [2]")
    ap.add_argument("--stat", choices=("best", "median"), default="best",
                    help="statistic over the rounds [best]")
    ap.add_argument("--lam", default=os.path.join(ROOT, "build", "lam"),
                    help="the lam binary [%(default)s]")
    ap.add_argument("--peer-layout", choices=("auto", "split", "packed"), default="auto",
                    help="the peer's projections: auto times both every round and reports "
                    "the better [auto]")
    ap.add_argument("--record", action="store_true",
                    help="also append the lines to bench/results/<machine>-<date>.jsonl")
    a = ap.parse_args()
    for c in a.configs.split(","):
        if c not in CONFIGS:
            ap.error(f"unknown config '{c}' (configs: {', '.join(CONFIGS)})")
    if a.threads < 1 or a.rounds < 1 or a.steps < 0 or a.warmup < 0:
        ap.error("--threads and --rounds must be >= 1, --steps and --warmup >= 0")
    return a


ARGS = parse_args()
# Thread settings before torch is imported, for both programs.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import torch  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests"))
import torch_model as tm  # noqa: E402


def log(msg):
    sys.stderr.write(f"[train_step] {msg}\n")
    sys.stderr.flush()


def machine_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def commit():
    try:
        h = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, timeout=10)
        if h.returncode != 0:
            return "none"
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return h.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return "none"


def run_ours(preset, B, T, steps):
    cmd = [ARGS.lam, "bench", "--model", preset, "--batch", str(B), "--seq", str(T),
           "--steps", str(steps), "--warmup", str(ARGS.warmup),
           "--threads", str(ARGS.threads), "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise SystemExit(f"{' '.join(cmd)} printed no JSON line: {p.stdout!r}")
    r = json.loads(lines[-1])
    for k in ("ours", "gflops", "sgemm_gflops"):
        if k not in r:
            raise SystemExit(f"`lam bench --json` has no field '{k}': {lines[-1]}")
    return r


class Peer:
    """The PyTorch side: the model, AdamW and a batch of random tokens (targets = next)."""

    def __init__(self, preset, B, T, steps, packed):
        self.c = tm.Config(tm.PRESETS[preset])
        self.B, self.T, self.steps = B, T, steps
        torch.manual_seed(1234)
        self.model = tm.LamTorchModel(self.c, packed=packed)
        self.opt = torch.optim.AdamW(self.model.adamw_groups(0.1), lr=1e-3, betas=(0.9, 0.95),
                                     eps=1e-8, foreach=True)
        seq = torch.randint(0, self.c.vocab_size, (B, T + 1))
        self.tokens, self.targets = seq[:, :-1].contiguous(), seq[:, 1:].contiguous()
        self.params = list(self.model.parameters())

    def step(self):
        self.opt.zero_grad(set_to_none=True)
        _, loss = self.model(self.tokens, self.targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.opt.step()
        return loss.item()

    def round(self):
        for _ in range(ARGS.warmup):
            self.step()
        t0 = time.perf_counter()
        for _ in range(self.steps):
            self.step()
        return self.B * self.T * self.steps / (time.perf_counter() - t0)


def stat(xs):
    return max(xs) if ARGS.stat == "best" else statistics.median(xs)


def bench_config(name, mach, sha):
    preset, B, T, steps = CONFIGS[name]
    steps = ARGS.steps or steps
    layouts = ["split", "packed"] if ARGS.peer_layout == "auto" else [ARGS.peer_layout]
    peers = {lay: Peer(preset, B, T, steps, packed=(lay == "packed")) for lay in layouts}
    ours, fpt, sgemm = [], [], []
    by_layout = {lay: [] for lay in layouts}
    for r in range(ARGS.rounds):
        o = run_ours(preset, B, T, steps)
        ours.append(o["ours"])
        fpt.append(o["gflops"] * 1e9 / o["ours"])
        sgemm.append(o["sgemm_gflops"])
        for lay in layouts:
            by_layout[lay].append(peers[lay].round())
        log(f"{name} round {r + 1}/{ARGS.rounds}: ours {ours[-1]:.0f} tok/s, peer "
            + ", ".join(f"{lay} {v[-1]:.0f} tok/s" for lay, v in by_layout.items()))
    # the peer's figure: its better layout by the same statistic
    layout = max(layouts, key=lambda lay: stat(by_layout[lay]))
    peer = by_layout[layout]
    o_best, p_best = stat(ours), stat(peer)
    flops = statistics.median(fpt)
    ours_gflops = o_best * flops * 1e-9
    sg = max(sgemm)  # the best of the rounds, like the two sides
    return {
        "bench": "train_step", "config": name, "ours": round(o_best, 1), "peer": round(p_best, 1),
        "peer_name": f"pytorch-{torch.__version__}", "ratio": round(o_best / p_best, 3),
        "unit": "tok/s", "threads": ARGS.threads, "commit": sha, "machine": mach,
        "ours_gflops": round(ours_gflops, 2), "sgemm_gflops": round(sg, 2),
        "pct_sgemm": round(100.0 * ours_gflops / sg, 1) if sg > 0 else None,
        "peer_gflops": round(p_best * flops * 1e-9, 2),
        "peer_pct_sgemm": round(100.0 * p_best * flops * 1e-9 / sg, 1) if sg > 0 else None,
        "model": preset, "n_params": o.get("n_params"), "batch": B, "seq": T, "steps": steps,
        "warmup": ARGS.warmup, "blas_core": o.get("blas_core"),
        "rounds": ARGS.rounds, "stat": ARGS.stat, "peer_layout": layout,
        "ours_rounds": [round(x, 1) for x in ours],
        "peer_rounds": {lay: [round(x, 1) for x in v] for lay, v in by_layout.items()},
        "loadavg": round(os.getloadavg()[0], 2),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def main():
    if not os.access(ARGS.lam, os.X_OK):
        raise SystemExit(f"{ARGS.lam} not found; build first: cmake -S {ROOT} -B {ROOT}/build && "
                         f"cmake --build {ROOT}/build -j")
    torch.set_num_threads(ARGS.threads)
    torch.set_flush_denormal(True)
    mach, sha = machine_name(), commit()
    lines = []
    for name in ARGS.configs.split(","):
        res = bench_config(name, mach, sha)
        line = json.dumps(res, separators=(",", ":"))
        print(line, flush=True)
        lines.append(line)
    if ARGS.record:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", mach).strip("-").lower() or "machine"
        path = os.path.join(ROOT, "bench", "results",
                            f"{slug}-{datetime.date.today().isoformat()}.jsonl")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as f:
            f.write("".join(ln + "\n" for ln in lines))
        log(f"appended {len(lines)} line(s) to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
