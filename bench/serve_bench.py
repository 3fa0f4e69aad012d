#!/usr/bin/python3
"""serve_bench.py - `lam serve` under load, on loopback, one JSON line per result:

  serve_http    wrk (Debian's) with --connections (64) keep-alive connections POSTing /v1/act for
                --seconds (20), three times: requests/s, latency p50/p90/p99 (the best run),
                errors (non-2xx and socket errors; both must be 0), and the server's resident
                memory (VmRSS) after a 5 s warm-up and after each run: `rss_growth_kib` is the
                last run's (none expected once warm)
  serve_decode  aggregate answer (decode) tokens/s of 1, 4 and 16 closed-loop clients, each
                sending its next request as soon as its answer came; the peer is the same
                server with one client, so `ratio` is what batching gives. Also the tokens/s of
                the decode steps alone (answer tokens over the time spent in steps, from the
                server's /metrics), which prefill does not dilute

The server is the real binary on the given checkpoint (default: the last of out/run, what
scripts/demo.sh trains) and the requests are the first steps of the recordings' test episodes
(default out/sim.jsonl). The client counts alternate for --rounds rounds; each count's figure is
its best round. wrk, the clients and the server share this machine's cores: the figures say what
one machine serves to itself, and the load average beside them says how busy it was.

  /usr/bin/python3 bench/serve_bench.py [--checkpoint CKPT] [--data out/sim.jsonl] [--seconds 20]
      [--connections 64] [--clients 1,4,16] [--rounds 2] [--temperature 1.0] [--threads N] [--record]
"""
import argparse
import datetime
import glob
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def machine():
    """The CPU's family, the first two words of its model name, as bench/results names machines."""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return " ".join(line.split(":", 1)[1].split()[:2])
    return "unknown"


def commit():
    try:
        c = subprocess.check_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                    text=True).strip()
        dirty = subprocess.call(["git", "-C", ROOT, "diff", "--quiet", "HEAD", "--"]) != 0
        return c + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Server:
    def __init__(self, lam, ckpt, threads, batch):
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        self.p = subprocess.Popen([lam, "serve", ckpt, "--port", "0", "--threads", str(threads),
                                   "--batch", str(batch), "--max-queue", "1024"],
                                  stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(1200):
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+) ", open(self.log.name).read())
            if m:
                self.port = int(m.group(1))
                return
            if self.p.poll() is not None:
                sys.exit("lam serve exited: " + open(self.log.name).read())
            time.sleep(0.05)
        sys.exit("lam serve did not start")

    def metrics(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        v = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                k, x = line.rsplit(" ", 1)
                v[k] = float(x)
        return v

    def stop(self):
        self.p.terminate()
        rc = self.p.wait()
        if rc != 0:
            sys.exit("lam serve exited %d: %s" % (rc, open(self.log.name).read()[-2000:]))
        os.unlink(self.log.name)


def requests_from(data, n, temperature, cut=0):
    """The first steps of test episodes; cut > 0 keeps only an observation's first cut elements
    (a short prompt)."""
    out = []
    for line in open(data):
        ep = json.loads(line)
        if not (ep.get("split") or "").startswith("test"):
            continue
        obs = ep["steps"][0]["observation"]
        if cut:
            keep = obs["elements"][:cut]
            ids = {e["id"] for e in keep}
            obs = dict(obs, elements=[{k: v for k, v in e.items() if k != "parent" or v in ids}
                                      for e in keep])
        r = {"task": ep["task"], "observation": obs}
        if temperature > 0:
            r["options"] = {"temperature": temperature, "seed": 1 + len(out)}
        out.append(json.dumps(r))
        if len(out) == n:
            break
    if not out:
        sys.exit("%s has no test episode" % data)
    return out


def wrk(port, bodies, seconds, connections, threads):
    """wrk's figures: requests/s, latency percentiles (ms), requests, errors."""
    lua = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    lua.write('local bodies = {%s}\nlocal i = 0\nrequest = function()\n  i = i %% #bodies + 1\n'
              '  return wrk.format("POST", "/v1/act", {["Content-Type"] = "application/json"}, '
              'bodies[i])\nend\n' % ", ".join(json.dumps(b) for b in bodies))
    lua.close()
    out = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds,
                          "--timeout", "60s", "--latency", "-s", lua.name,
                          "http://127.0.0.1:%d/v1/act" % port],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(lua.name)

    def ms(s):
        v, u = re.match(r"([\d.]+)(us|ms|s)", s).groups()
        return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[u]
    r = {"req_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
         "requests": int(re.search(r"(\d+) requests in", out).group(1))}
    for p in ("50", "75", "90", "99"):
        r["p%s_ms" % p] = round(ms(re.search(r"\s%s%%\s+(\S+)" % p, out).group(1)), 2)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["socket_errors"] = sum(map(int, m.groups())) if m else 0
    return r, out


def clients_run(port, bodies, k, seconds):
    """k closed-loop clients for `seconds`: answers' tokens, requests, latencies."""
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    tot = {"completion": 0, "prompt": 0, "requests": 0, "lat": [], "errors": 0}

    def client(i):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        n = i
        while time.monotonic() < stop:
            t0 = time.monotonic()
            c.request("POST", "/v1/act", body=bodies[n % len(bodies)],
                      headers={"Content-Type": "application/json"})
            resp = c.getresponse()
            data = resp.read()
            dt = time.monotonic() - t0
            n += k
            with lock:
                if resp.status != 200:
                    tot["errors"] += 1
                    continue
                u = json.loads(data)["usage"]
                tot["completion"] += u["completion_tokens"]
                tot["prompt"] += u["prompt_tokens"]
                tot["requests"] += 1
                tot["lat"].append(dt)
        c.close()
    t0 = time.monotonic()
    ts = [threading.Thread(target=client, args=(i,)) for i in range(k)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    tot["wall"] = time.monotonic() - t0
    return tot


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lam", default=os.path.join(ROOT, "build", "lam"))
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--data", default=os.path.join(ROOT, "out", "sim.jsonl"))
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--clients", default="1,4,16")
    ap.add_argument("--client-seconds", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--temperature", type=float, default=1.0,
                    help="sampling temperature of the clients' requests (0: greedy)")
    ap.add_argument("--threads", type=int, default=1,
                    help="the model's CPU threads (1: the other core is wrk's, the clients' and "
                         "the HTTP threads')")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--record", action="store_true")
    a = ap.parse_args()
    ckpt = a.checkpoint or (sorted(glob.glob(os.path.join(ROOT, "out", "run", "ckpt-*.h5"))) or [None])[-1]
    if not ckpt:
        sys.exit("no checkpoint: give --checkpoint or run scripts/demo.sh (out/run)")
    lines = []
    common = {"threads": a.threads, "commit": commit(), "machine": machine(),
              "checkpoint": os.path.basename(ckpt), "batch": a.batch,
              "date": datetime.date.today().isoformat()}
    srv = Server(a.lam, ckpt, a.threads, a.batch)
    try:
        # HTTP load: greedy requests through wrk
        greedy = requests_from(a.data, 16, 0.0)
        load0 = os.getloadavg()[0]
        log("wrk warm-up (5 s, %d connections)" % a.connections)
        wrk(srv.port, greedy, 5, a.connections, a.wrk_threads)
        rss = [rss_kib(srv.p.pid)]
        m0 = srv.metrics()
        runs = []
        for r in range(3):  # three measured runs: the figures of the best, memory after each
            log("wrk %d s, %d connections (run %d)" % (a.seconds, a.connections, r + 1))
            w, raw = wrk(srv.port, greedy, a.seconds, a.connections, a.wrk_threads)
            rss.append(rss_kib(srv.p.pid))
            runs.append(w)
            log(raw)
        m1 = srv.metrics()
        steps = m1["lam_decode_steps_total"] - m0["lam_decode_steps_total"]
        seqs = m1["lam_decode_step_sequences_total"] - m0["lam_decode_step_sequences_total"]
        errors = sum(x["non2xx"] + x["socket_errors"] for x in runs)
        w = max(runs, key=lambda x: x["req_s"])
        lines.append(dict({
            "bench": "serve_http",
            "config": "wrk %d connections %d s, POST /v1/act greedy, 16 test observations"
                      % (a.connections, a.seconds),
            "ours": w["req_s"], "peer": None, "peer_name": None, "ratio": None, "unit": "req/s",
            "p50_ms": w["p50_ms"], "p75_ms": w["p75_ms"], "p90_ms": w["p90_ms"],
            "p99_ms": w["p99_ms"], "requests": sum(x["requests"] for x in runs), "errors": errors,
            "non2xx": sum(x["non2xx"] for x in runs),
            "socket_errors": sum(x["socket_errors"] for x in runs),
            "ours_rounds": [x["req_s"] for x in runs],
            "rss_kib": rss, "rss_growth_kib": rss[-1] - rss[-2],
            "mean_batch": round(seqs / steps, 2) if steps else None,
            "connections": a.connections, "seconds": a.seconds,
            "loadavg": [round(load0, 2), round(os.getloadavg()[0], 2)]}, **common))
        print(json.dumps(lines[-1]), flush=True)
        # decode tokens/s by clients, alternating rounds, for each workload
        ks = [int(x) for x in a.clients.split(",")]
        for wl, cut in (("recorded", 0), ("short", 8)):
            decode_lines(a, srv, common, lines, ks, wl, requests_from(a.data, 64, a.temperature, cut))
    finally:
        srv.stop()
    if a.record:
        slug = "".join(c if c.isalnum() else "-" for c in machine().lower()).strip("-")
        slug = re.sub("-+", "-", slug)
        path = os.path.join(HERE, "results", "%s-%s.jsonl" % (slug, common["date"]))
        with open(path, "a") as f:
            for line in lines:
                f.write(json.dumps(line) + "\n")
        log("recorded in %s" % path)


def decode_lines(a, srv, common, lines, ks, workload, sampled):
    """The serve_decode lines of one workload: each client count, best of the rounds."""
    rounds = {k: [] for k in ks}
    for r in range(a.rounds):
        for k in ks:
            m0 = srv.metrics()
            l0 = os.getloadavg()[0]
            t = clients_run(srv.port, sampled, k, a.client_seconds)
            m1 = srv.metrics()
            d = {x: m1[x] - m0[x] for x in ("lam_decode_steps_total",
                                            "lam_decode_step_sequences_total",
                                            "lam_decode_step_seconds_sum")}
            lat = sorted(t["lat"]) or [0]
            res = {"tok_s": t["completion"] / t["wall"], "req_s": t["requests"] / t["wall"],
                   "requests": t["requests"], "errors": t["errors"],
                   "prompt_tokens": t["prompt"], "completion_tokens": t["completion"],
                   "step_share": d["lam_decode_step_seconds_sum"] / t["wall"],
                   "p50_ms": 1e3 * lat[len(lat) // 2], "p99_ms": 1e3 * lat[int(len(lat) * 0.99)],
                   "mean_batch": d["lam_decode_step_sequences_total"] / max(1, d["lam_decode_steps_total"]),
                   "step_tok_s": d["lam_decode_step_sequences_total"] / max(1e-9, d["lam_decode_step_seconds_sum"]),
                   "loadavg": [round(l0, 2), round(os.getloadavg()[0], 2)]}
            rounds[k].append(res)
            log("%s, round %d, %2d clients: %7.1f answer tok/s, %5.1f req/s, mean batch %.1f, "
                "steps %.0f tok/s, load %.1f" % (workload, r, k, res["tok_s"], res["req_s"],
                                                 res["mean_batch"], res["step_tok_s"], l0))
    best = {k: max(rounds[k], key=lambda x: x["tok_s"]) for k in ks}
    one = best[ks[0]]
    for k in ks:
        b = best[k]
        lines.append(dict({
            "bench": "serve_decode", "workload": workload,
            "config": "%d closed-loop clients, POST /v1/act at temperature %g, %s observations, %d s"
                      % (k, a.temperature, "whole" if workload == "recorded" else "8-element",
                         a.client_seconds),
            "ours": round(b["tok_s"], 1), "peer": round(one["tok_s"], 1),
            "peer_name": "the same server with %d client" % ks[0],
            "ratio": round(b["tok_s"] / one["tok_s"], 2), "unit": "tok/s", "clients": k,
            "req_s": round(b["req_s"], 2), "requests": b["requests"], "errors": b["errors"],
            "prompt_tokens_per_request": round(b["prompt_tokens"] / max(1, b["requests"]), 1),
            "completion_tokens_per_request": round(b["completion_tokens"] / max(1, b["requests"]), 1),
            "p50_ms": round(b["p50_ms"], 1), "p99_ms": round(b["p99_ms"], 1),
            "mean_batch": round(b["mean_batch"], 2), "step_tok_s": round(b["step_tok_s"], 1),
            "step_ratio": round(b["step_tok_s"] / one["step_tok_s"], 2),
            "step_share": round(b["step_share"], 3),
            "rounds": [round(x["tok_s"], 1) for x in rounds[k]], "stat": "best",
            "loadavg": b["loadavg"]}, **common))
        print(json.dumps(lines[-1]), flush=True)


if __name__ == "__main__":
    main()
