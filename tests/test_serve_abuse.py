#!/usr/bin/env python3
"""serve.abuse: nothing a client sends crashes or hangs `lam serve`. Run against a server started
with --timeout 3 --max-body 65536. On raw sockets and with Python's http.client: malformed and
truncated requests, oversized bodies (with and without Content-Length), huge headers, slowloris
headers and a body sent slowly, random bytes, a thousand random mutations of valid /v1/act and
chat bodies (each answered 200 with actions valid for what the mutated body says, or 4xx with a
JSON error object), deep nesting, NUL and invalid UTF-8, pipelining, abandoned connections
(mid-request, waiting for an answer, mid-stream), a connection flood. Then the server answers the
first request exactly as before, has no request left in flight, and answered no 5xx.
Usage: test_serve_abuse.py HOST PORT WORKDIR (WORKDIR holds req0.json). Seed: LAM_TEST_SEED."""
import http.client
import json
import os
import random
import socket
import sys
import threading
import time

host, port, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seed = int(os.environ.get("LAM_TEST_SEED", "20261202"))
print("seed %d (LAM_TEST_SEED)" % seed)
rng = random.Random(seed)
WAIT = 60  # seconds any answer may take on a loaded machine before the server counts as hung
MAX_BODY = 65536
req = json.load(open(os.path.join(work, "req0.json")))
body = json.dumps(req).encode()


def request(method, path, data=None, headers=None, timeout=WAIT):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=data, headers=dict(headers or {}, Connection="close"))
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def raw(data, shut=True, timeout=WAIT, pieces=None, gap=0.0):
    """Sends data (or pieces with gaps), optionally closes the write side, reads until the server
    closes; returns what came back. A server that neither answers nor closes within timeout hangs."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        try:
            for p in pieces or [data]:
                s.sendall(p)
                if gap:
                    time.sleep(gap)
            if shut:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError, OSError) as e:
            if isinstance(e, socket.timeout):
                raise
            # the server closed the connection while we were still sending: what did it say?
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            out += b
        return out
    except socket.timeout:
        raise AssertionError("the server neither answered nor closed within %d s: %r" % (timeout, data[:80]))
    finally:
        s.close()


def status_of(resp):
    if not resp.startswith(b"HTTP/1."):
        return None
    return int(resp.split(b" ", 2)[1])


def check_error_body(data, what):
    e = json.loads(data)["error"]
    assert isinstance(e["message"], str) and e["message"], (what, e)
    assert e["type"] in ("invalid_request_error", "not_found_error", "authentication_error",
                         "rate_limit_error"), (what, e)
    assert "param" in e, (what, e)


def check_actions(parsed, data, what):
    """A 200 answer to a body that parsed as parsed: its actions are valid for its observation."""
    ans = json.loads(data)
    els = {}
    for e in parsed["observation"]["elements"]:
        els.setdefault(e["id"], e)
    for a in ans["actions"]:
        if "element" in a:
            e = els[a["element"]]
            assert not e.get("disabled") and a["role"] == e["role"], (what, a)
            if a["type"] == "select":
                assert a["value"] in e["options"], (what, a)


st, _, data = request("POST", "/v1/act", body)
assert st == 200, data
baseline = json.loads(data)["text"]
print("  baseline answer: %s" % baseline)
counts = {}


def count(name, n=1):
    counts[name] = counts.get(name, 0) + n


# malformed, truncated, oversized, odd
cases = [
    (b"GARBAGE\r\n\r\n", "request line"),
    (b"GET /health HTTP/1.1\r\nHost: x\r\n", "headers never end"),
    (b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n", "version"),
    (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n", "huge header"),
    (b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 20000 + b"\r\n", "many headers"),
    (b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "huge url"),
    (b"POST /v1/act HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + body[:100], "truncated body"),
    (b"POST /v1/act HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", "negative length"),
    (b"POST /v1/act HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "length not a number"),
    (b"POST /v1/act HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", "length overflow"),
    (b"POST /v1/act HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n", "bad chunk"),
    (b"POST /v1/act HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\n{}}\r\n0\r\n\r\n", "chunked and length"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)), "a TLS hello"),
    (b"PUT /v1/act HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", "PUT"),
    (b"DELETE /v1/act HTTP/1.1\r\nHost: x\r\n\r\n", "DELETE"),
]
for data, what in cases:
    resp = raw(data)
    s = status_of(resp)
    # (libmicrohttpd answers an unknown HTTP version 505 itself)
    assert s is None or 400 <= s < 500 or (s == 505 and what == "version"), (what, resp[:200])
    count("malformed")
print("  %d malformed or truncated requests: 4xx or closed" % len(cases))

# oversized bodies: announced, chunked, and far over (the connection is then closed)
st, _, data = request("POST", "/v1/act", b"x", {"Content-Length": str(10**12)})
assert st == 413, data
chunk = b"a" * 8192
resp = raw(b"POST /v1/act HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
           + (b"2000\r\n" + chunk + b"\r\n") * 10 + b"0\r\n\r\n")
assert status_of(resp) == 413, resp[:200]
check_error_body(resp.split(b"\r\n\r\n", 1)[1], "chunked 413")
resp = raw(b"POST /v1/act HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           + (b"2000\r\n" + chunk + b"\r\n") * 3000, shut=False)
assert resp == b"", resp[:200]  # closed while we were still sending: that is the point
print("  oversized bodies: 413, 413, and a 24 MB one cut off")

# JSON that is no request
bad_json = [b'{"task": "x",', b"[" * 60000, b'"' + b"a" * 1000, b'{"task": "a\\u0000b", "observation": {"url": "u", "elements": []}}',
            b'{"task": "\xff\xfe", "observation": {"url": "u", "elements": []}}', b"", b"null", b"1e999999",
            b'{"task": "x", "task": "y", "observation": {"url": "u", "elements": []}}']
for data in bad_json:
    for path in ("/v1/act", "/v1/chat/completions"):
        st, _, out = request("POST", path, data, {"Content-Type": "application/json"})
        assert st == 400, (data[:40], st, out[:200])
        check_error_body(out, data[:40])
        count("bad json")
print("  %d bodies that are not requests: 400 with a JSON error" % (2 * len(bad_json)))


def mutate(b):
    b = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        k = rng.randrange(5)
        at = rng.randrange(len(b)) if b else 0
        if k == 0 and b:
            b[at] ^= 1 << rng.randrange(8)
        elif k == 1 and b:
            b[at] = rng.choice(b'{}[]":,0123456789eE.-+ \\ntrufalsn')
        elif k == 2 and b:
            del b[at:at + rng.randint(1, 16)]
        elif k == 3:
            src = rng.randrange(len(b))
            b[at:at] = b[src:src + rng.randint(1, 32)]
        else:
            b = b[:at]
    return bytes(b)


chat = json.dumps({"messages": [
    {"role": "user", "content": req["task"]},
    {"role": "user", "content": json.dumps(req["observation"])}]}).encode()
ok = refused = 0
for i in range(1000):
    path, src = ("/v1/act", body) if i % 4 else ("/v1/chat/completions", chat)
    data = mutate(src)
    if len(data) > MAX_BODY:
        continue
    st, _, out = request("POST", path, data)
    assert st == 200 or 400 <= st < 500, (data[:100], st, out[:300])
    if st == 200:
        ok += 1
        parsed = json.loads(data)
        if path == "/v1/act":
            check_actions(parsed, out, data[:60])
        else:  # the observation is in the last user or tool message
            m = [x for x in parsed["messages"] if x["role"] in ("user", "tool")][-1]["content"]
            if isinstance(m, list):
                m = "".join(p["text"] for p in m)
            obs = json.loads(m)
            calls = json.loads(out)["choices"][0]["message"]["tool_calls"]
            acts = [dict(json.loads(c["function"]["arguments"]), type=c["function"]["name"]) for c in calls]
            check_actions({"observation": obs.get("observation", obs)}, json.dumps({"actions": acts}),
                          data[:60])
    else:
        check_error_body(out, data[:60])
        refused += 1
print("  1000 mutated bodies: %d answered with valid actions, %d refused with 4xx" % (ok, refused))

# random bytes, many at once
def random_conn(k):
    r = random.Random(seed * 1000 + k)
    data = bytes(r.randrange(256) for _ in range(r.randint(1, 3000)))
    if k % 3 == 0:
        data = b"POST /v1/act HTTP/1.1\r\nHost: x\r\n" + data
    resp = raw(data)
    s = status_of(resp)
    assert s is None or 400 <= s < 500, resp[:200]


def run_threads(fn, n, width=40):
    errors = []

    def wrap(k):
        try:
            fn(k)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    for base in range(0, n, width):
        ts = [threading.Thread(target=wrap, args=(k,)) for k in range(base, min(n, base + width))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert not errors, errors[:3]


run_threads(random_conn, 200)
print("  200 connections of random bytes: 4xx or closed")

# slowloris: 30 connections trickle their headers while a real request is answered
stop = threading.Event()


def slow_headers(k):
    s = socket.create_connection((host, port), timeout=WAIT)
    try:
        for ch in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 1000:
            if stop.is_set():
                break
            s.send(bytes([ch]))
            time.sleep(0.1)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server closed it (idle timeout between bytes is not reached; fine either way)
    finally:
        s.close()


slow = [threading.Thread(target=slow_headers, args=(k,)) for k in range(30)]
for t in slow:
    t.start()
time.sleep(0.5)
st, _, data = request("POST", "/v1/act", body)
assert st == 200 and json.loads(data)["text"] == baseline, data
stop.set()
for t in slow:
    t.join()
print("  during 30 slowloris connections a request got its answer")

# a body sent slowly (gaps under the idle timeout) is answered; one that stalls is dropped
head = b"POST /v1/act HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
n = len(body) // 20 + 1
resp = raw(None, pieces=[head] + [body[i:i + n] for i in range(0, len(body), n)], gap=0.1,
           shut=False)  # (a half-closed connection counts as a client gone: no answer)
assert status_of(resp) == 200 and json.loads(resp.split(b"\r\n\r\n", 1)[1])["text"] == baseline, resp[:300]
resp = raw(head + body[:50], shut=False)  # then nothing: closed after --timeout 3
assert resp == b"" or status_of(resp) in (408, 400), resp[:200]
print("  a body sent in 20 pieces answered; a stalled one closed")

# pipelining: two requests in one packet, two answers
resp = raw(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
assert resp.count(b"HTTP/1.1 200") == 2, resp[:400]

# abandoned: mid-request, waiting for the answer, mid-stream
for _ in range(10):
    s = socket.create_connection((host, port))
    s.sendall(b"POST /v1/act HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    s.close()
    s = socket.create_connection((host, port))
    s.sendall(b"POST /v1/act HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:len(body) // 2])
    s.close()
stream_body = json.dumps(dict(json.loads(chat), stream=True)).encode()
for _ in range(5):
    s = socket.create_connection((host, port), timeout=WAIT)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(stream_body) + stream_body)
    s.recv(10)
    s.close()
# a flood of connections that say nothing
socks = [socket.create_connection((host, port)) for _ in range(200)]
for s in socks:
    s.close()
print("  pipelining, 25 abandoned requests and streams, 200 silent connections")

# afterwards: the same answer, nothing left in flight, no 5xx
st, _, data = request("POST", "/v1/act", body)
assert st == 200 and json.loads(data)["text"] == baseline, data
for _ in range(WAIT * 10):
    st, _, data = request("GET", "/health")
    h = json.loads(data)
    if st == 200 and h["in_flight"] == 1 and h["queue"] == 0 and h["batch"] == 0:
        break
    time.sleep(0.1)
assert h["in_flight"] == 1 and h["queue"] == 0 and h["batch"] == 0, h
st, _, data = request("GET", "/metrics")
fives = [l for l in data.decode().splitlines() if l.startswith("lam_requests_total") and 'code="5' in l]
assert not fives, fives
print("  afterwards: the same answer (%s), nothing in flight, no 5xx answered" % baseline)
