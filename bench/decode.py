#!/usr/bin/python3
"""decode.py - inference speed: prefill tokens/s and decode tokens/s at batch 1 and 16 of the
inference engine (bench/decode_bench.c, build/tests/decode_bench) against the same model in
PyTorch decoding with a KV cache, in one run, alternating, best round each.

The model is a preset (default `small`) with random weights written by decode_bench so both
sides run the very same weights. The PyTorch peer is written as its users write a cached
decoder: the Llama layers of tests/torch_model.py's layout with preallocated key/value caches,
attention as softmax(q k^T / sqrt(hd)) v with a causal mask over the prompt (torch 1.13 has no
scaled_dot_product_attention), torch.inference_mode, the same threads, denormals flushed. Greedy decoding, no
grammar (the model alone; the grammar's cost is bench/grammar_bench's).

  bench/decode.py [--model small] [--prompt 512] [--steps 64] [--rounds 3] [--threads N] [--record]
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def machine():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def commit():
    try:
        c = subprocess.check_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                    text=True).strip()
        dirty = subprocess.call(["git", "-C", ROOT, "diff", "--quiet", "HEAD", "--"]) != 0
        return c + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Peer:
    """The same decoder in PyTorch with a preallocated KV cache."""

    def __init__(self, torch, cfg, flat, max_batch, max_len):
        import torch.nn.functional as F
        self.torch, self.F = torch, F
        c = cfg
        self.V, self.D, self.L = c["vocab_size"], c["dim"], c["n_layers"]
        self.H, self.KV = c["n_heads"], c["n_kv_heads"]
        self.hd, self.Fd, self.eps = self.D // self.H, c["ffn_dim"], c["norm_eps"]
        V, D, L, H, KV, hd, Fd = self.V, self.D, self.L, self.H, self.KV, self.hd, self.Fd
        C3 = (H + 2 * KV) * hd
        p, o = torch.from_numpy(flat), 0

        def take(*shape):
            nonlocal o
            n = 1
            for s in shape:
                n *= s
            t = p[o:o + n].view(*shape).clone()
            o += n
            return t
        self.emb = take(V, D)
        self.an = take(L, D)
        self.wqkv = take(L, C3, D)
        self.wo = take(L, D, H * hd)
        self.mn = take(L, D)
        self.wgu = take(L, 2 * Fd, D)
        self.wd = take(L, D, Fd)
        self.fn = take(D)
        self.head = self.emb if c["tie_embeddings"] else take(V, D)
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        t = torch.arange(max_len, dtype=torch.float32)
        fr = torch.outer(t, inv)
        emb = torch.cat((fr, fr), dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()
        self.kc = torch.zeros(L, max_batch, KV, max_len, hd)
        self.vc = torch.zeros(L, max_batch, KV, max_len, hd)

    def norm(self, x, w):
        return x * self.torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, pos):  # x (B, heads, T, hd), pos (T)
        cos, sin = self.cos[pos], self.sin[pos]
        x1, x2 = x.chunk(2, dim=-1)
        return x * cos + self.torch.cat((-x2, x1), dim=-1) * sin

    def attend(self, q, k, v, p0):
        """softmax(q k^T / sqrt(hd)) v, query t at position p0+t seeing keys up to there (torch
        1.13 has no scaled_dot_product_attention: written as its users write it)."""
        torch = self.torch
        s = (q @ k.transpose(-1, -2)) * (1.0 / self.hd ** 0.5)
        T, S = q.shape[2], k.shape[2]
        if T > 1:
            mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=p0)
            s = s.masked_fill(~mask, float("-inf"))
        return torch.softmax(s, dim=-1) @ v

    def forward(self, tokens, p0):
        """tokens (B, T) at positions [p0, p0+T); returns the last position's logits (B, V)."""
        torch, F = self.torch, self.F
        B, T = tokens.shape
        H, KV, hd = self.H, self.KV, self.hd
        pos = torch.arange(p0, p0 + T)
        x = self.emb[tokens]
        for l in range(self.L):
            h = self.norm(x, self.an[l])
            qkv = h @ self.wqkv[l].T
            q, k, v = qkv.split([H * hd, KV * hd, KV * hd], dim=-1)
            q = self.rope(q.view(B, T, H, hd).transpose(1, 2), pos)
            k = self.rope(k.view(B, T, KV, hd).transpose(1, 2), pos)
            self.kc[l, :B, :, p0:p0 + T] = k
            self.vc[l, :B, :, p0:p0 + T] = v.view(B, T, KV, hd).transpose(1, 2)
            kk = self.kc[l, :B, :, :p0 + T].repeat_interleave(H // KV, dim=1)
            vv = self.vc[l, :B, :, :p0 + T].repeat_interleave(H // KV, dim=1)
            a = self.attend(q, kk, vv, p0)
            x = x + a.transpose(1, 2).reshape(B, T, H * hd) @ self.wo[l].T
            h = self.norm(x, self.mn[l])
            g, u = (h @ self.wgu[l].T).chunk(2, dim=-1)
            x = x + (F.silu(g) * u) @ self.wd[l].T
        return self.norm(x[:, -1], self.fn) @ self.head.T


def run_peer(torch, peer, mode, prompt, batch, steps, reps):
    toks = torch.randint(0, peer.V, (batch, prompt), generator=torch.Generator().manual_seed(5))
    with torch.inference_mode():
        if mode == "prefill":
            peer.forward(toks[:1], 0)
            t0 = time.perf_counter()
            for _ in range(reps):
                peer.forward(toks[:1], 0)
            return prompt * reps / (time.perf_counter() - t0)
        logits = peer.forward(toks, 0)
        nxt = logits.argmax(-1, keepdim=True)
        logits = peer.forward(nxt, prompt)
        t0 = time.perf_counter()
        for s in range(steps):
            nxt = logits.argmax(-1, keepdim=True)
            logits = peer.forward(nxt, prompt + 1 + s)
        return batch * steps / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="small")
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "tests", "decode_bench"))
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(a.threads)
    import numpy as np
    import torch
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    with tempfile.TemporaryDirectory() as d:
        pf, cf = os.path.join(d, "params.f32"), os.path.join(d, "config.json")
        subprocess.check_call([a.bin, a.model, pf, cf, "write"])
        cfg = json.load(open(cf))
        flat = np.fromfile(pf, dtype=np.float32)
        max_len = a.prompt + a.steps + 2
        peer = Peer(torch, cfg, flat, 16, max_len)
        # both sides must compute the same model: the logits after one prefill
        chk = json.loads(subprocess.check_output(
            [a.bin, a.model, pf, cf, "logits", str(a.prompt)], text=True))
        ours_l = np.array(chk["logits"], dtype=np.float64)
        toks = torch.tensor([chk["tokens"]])
        with torch.inference_mode():
            peer_l = peer.forward(toks, 0)[0].double().numpy()
        err = float(np.abs(ours_l - peer_l).max() / np.abs(peer_l).max())
        print("same model: max relative difference of the logits %.2e" % err, file=sys.stderr)
        if err > 1e-4:
            sys.exit("decode.py: the two sides disagree (%.2e): not the same model" % err)
        cases = [("prefill", 1), ("decode", 1), ("decode", 16)]
        results = {c: ([], []) for c in cases}
        core = None  # OpenBLAS's kernels, the same for both sides (one environment)
        for r in range(a.rounds):
            for mode, batch in cases:
                if mode == "prefill":
                    args = [a.bin, a.model, pf, cf, "prefill", str(a.prompt), str(a.reps)]
                else:
                    args = [a.bin, a.model, pf, cf, "decode", str(batch), str(a.prompt // 2),
                            str(a.steps)]
                res = json.loads(subprocess.check_output(args, text=True))
                ours, core = res["tok_s"], res.get("blas_core")
                p = run_peer(torch, peer, mode, a.prompt if mode == "prefill" else a.prompt // 2,
                             batch, a.steps, a.reps)
                results[(mode, batch)][0].append(ours)
                results[(mode, batch)][1].append(p)
                print("round %d %s b%d: ours %.0f, pytorch %.0f tok/s" % (r, mode, batch, ours, p),
                      file=sys.stderr)
    date = datetime.date.today().isoformat()
    lines = []
    for (mode, batch), (ours, peer_r) in results.items():
        o, p = max(ours), max(peer_r)
        lines.append({
            "bench": "decode" if mode == "decode" else "prefill",
            "config": "%s %s b%d" % (a.model, "prompt %d" % a.prompt if mode == "prefill"
                                     else "prompt %d, %d steps" % (a.prompt // 2, a.steps), batch),
            "ours": round(o, 1), "peer": round(p, 1),
            "peer_name": "pytorch-%s (KV cache)" % torch.__version__,
            "ratio": round(o / p, 3), "unit": "tok/s", "threads": a.threads, "commit": commit(),
            "machine": machine(), "batch": batch, "rounds": a.rounds, "blas_core": core,
            "ours_rounds": [round(x, 1) for x in ours],
            "peer_rounds": [round(x, 1) for x in peer_r],
            "loadavg": os.getloadavg()[0], "date": date})
    for line in lines:
        print(json.dumps(line), flush=True)
    if a.record:
        slug = "".join(c if c.isalnum() else "-" for c in machine().lower()).strip("-")
        with open(os.path.join(HERE, "results", "%s-%s.jsonl" % (slug, date)), "a") as f:
            for line in lines:
                f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
