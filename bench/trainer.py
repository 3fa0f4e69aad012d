#!/usr/bin/python3
"""trainer.py - is the data path a bottleneck? `lam train` against `lam bench` (the bare
training step on random tokens) at the same model, batch and sequence length, in one run.

Builds a dataset store from simulator episodes (synth, tokenizer, build), then alternates
for --rounds rounds: `lam bench --json` (forward, backward, clipping, AdamW over every
position, no data) and `lam train` for the same number of steps (packed rows from the store,
the loss on the target actions only, no evaluation, one checkpoint at the end that is not
timed). Each side's figure is its best round. Reported: positions per second (B*T over the
step time, padding included, the bench's own unit) and the trainer's share of a step spent
reading and packing data. The trainer computes the LM head only on loss-carrying rows, so it
may be faster than the bare step; the issue's bar is that it is not more than 5% slower.

  bench/trainer.py [--model small] [--batch 8] [--seq 1024] [--steps 8] [--rounds 3] [--record]
"""
import argparse
import datetime
import json
import os
import subprocess
import tempfile

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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="small")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--episodes", type=int, default=600)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--lam", default=os.path.join(ROOT, "build", "lam"))
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    lam, env = a.lam, dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    bench_rates, train_rates, data_fracs = [], [], []
    with tempfile.TemporaryDirectory() as d:
        rec, tok, ds = (os.path.join(d, n) for n in ("s.jsonl", "tok.json", "d.h5"))
        subprocess.check_call([lam, "data", "synth", "--episodes", str(a.episodes), "--seed",
                               "9", "--out", rec, "--quiet"])
        subprocess.check_call([lam, "data", "tokenizer", "train", "--vocab", "4096", "--out",
                               tok, rec], stderr=subprocess.DEVNULL)
        subprocess.check_call([lam, "data", "build", rec, "--tokenizer", tok, "--out", ds, "-q"],
                              stdout=subprocess.DEVNULL)
        for r in range(a.rounds):
            out = subprocess.run([lam, "bench", "--model", a.model, "--batch", str(a.batch),
                                  "--seq", str(a.seq), "--steps", str(a.steps), "--warmup", "1",
                                  "--threads", str(a.threads), "--json", "--no-sgemm"],
                                 env=env, check=True, capture_output=True, text=True).stdout
            b = json.loads(out)
            bench_rates.append(a.batch * a.seq / (b["step_ms"] / 1e3))
            run = os.path.join(d, "run%d" % r)
            res = subprocess.run([lam, "train", "--data", ds, "--model", a.model, "--batch",
                                  str(a.batch), "--seq", str(a.seq), "--steps",
                                  str(a.steps + 1), "--valid-split", "", "--ckpt-every", "0",
                                  "--threads", str(a.threads), "--quiet", "--out", run],
                                 env=env, check=True, capture_output=True, text=True)
            # steps after the first (the bench also leaves one warmup step out of its time)
            log = [json.loads(x) for x in open(os.path.join(run, "log.jsonl"))][1:]
            ms = sum(x["step_ms"] for x in log) / len(log)
            train_rates.append(a.batch * a.seq / (ms / 1e3))
            data_fracs.append(sum(x["data_ms"] for x in log) / sum(x["step_ms"] for x in log))
            print("round %d: bench %.0f, train %.0f positions/s" %
                  (r, bench_rates[-1], train_rates[-1]), file=__import__("sys").stderr)
    ours, peer = max(train_rates), max(bench_rates)
    line = {
        "bench": "trainer_vs_step", "config": "%s b%d s%d" % (a.model, a.batch, a.seq),
        "ours": round(ours, 1), "peer": round(peer, 1), "peer_name": "lam bench (bare step)",
        "ratio": round(ours / peer, 3), "unit": "positions/s", "threads": a.threads,
        "commit": commit(), "machine": machine(), "steps": a.steps, "rounds": a.rounds,
        "ours_rounds": [round(x, 1) for x in train_rates],
        "peer_rounds": [round(x, 1) for x in bench_rates],
        "data_share": round(min(data_fracs), 5), "loadavg": os.getloadavg()[0],
        "date": datetime.date.today().isoformat(),
    }
    print(json.dumps(line), flush=True)
    if a.record:
        slug = "".join(c if c.isalnum() else "-" for c in machine().lower()).strip("-")
        path = os.path.join(HERE, "results", "%s-%s.jsonl" % (slug, line["date"]))
        with open(path, "a") as f:
            f.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
