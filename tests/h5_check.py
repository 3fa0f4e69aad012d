#!/usr/bin/env python3
"""h5_check.py D.h5 RECORDINGS... - the dataset store read by h5py (the independent reader) and
checked against the JSONL recordings it was built from: format attributes, dtypes, chunking and
compression, episode count, ids, tasks, apps, splits, step offsets, source SHA-256 (hashlib),
split counts, and every sample decoded here from tokenizer.json alone (GPT-2 byte-level
decoding written below, not lamkit's): the text holds the episode's task, the loss mask is one
run of tokens between <|act|> and <|end|>, and the masked text is exactly the step's action in
the action language followed by " <end>" (its element named by position in the observation when
the store's index_ids attribute says so, computed here from the recording; the observation line
names that position in brackets, `"Name" [7]`, or bare, `"Name" 7`). Exits 77 when h5py is
missing."""
import hashlib
import json
import sys
from collections import Counter

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"h5_check: skipped: {e} (Debian: apt-get install python3-h5py)")
    sys.exit(77)


def byte_decoder():
    # GPT-2's bytes_to_unicode, inverted
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def main():
    if len(sys.argv) < 3:
        print("usage: h5_check.py D.h5 RECORDINGS...", file=sys.stderr)
        return 2
    path, recs = sys.argv[1], sys.argv[2:]
    bad = []

    def check(cond, what):
        if not cond:
            bad.append(what)
            if len(bad) <= 10:
                print("FAIL:", what)

    eps = []
    for r in recs:
        with open(r, encoding="utf-8") as f:
            eps += [json.loads(line) for line in f if line.strip()]

    f = h5py.File(path, "r")
    check(f.attrs["format"] in ("lamkit.dataset", b"lamkit.dataset"), "format attribute")
    check(int(f.attrs["schema_version"]) == 1, "schema_version")
    want = {"samples/tokens": np.int32, "samples/mask": np.uint8, "samples/offset": np.int64,
            "samples/length": np.int32, "samples/episode": np.int32, "samples/step": np.int32,
            "episodes/step_offset": np.int64}
    for name, dt in want.items():
        check(f[name].dtype == dt, f"{name} dtype {f[name].dtype}")
    for name in ("samples/tokens", "samples/mask"):
        check(f[name].chunks is not None, f"{name} is chunked")
        check(f[name].compression == "gzip" or f.get("meta").attrs["deflate"] == 0,
              f"{name} compressed")

    # metadata
    tok = json.loads(bytes(f["meta/tokenizer_json"][()]).decode("utf-8"))
    names = [s.decode() for s in f["meta/source_names"][()]]
    shas = [s.decode() for s in f["meta/source_sha256"][()]]
    base = __import__("os").path.basename
    check([base(n) for n in names] == [base(r) for r in recs], f"source names {names}")
    for r, s in zip(recs, shas):
        with open(r, "rb") as fh:
            check(hashlib.sha256(fh.read()).hexdigest() == s, f"sha256 of {r}")

    # episodes
    E = len(eps)
    col = {k: [s.decode() for s in f["episodes/" + k][()]]
           for k in ("id", "task", "app", "domain", "template", "split")}
    check(len(col["id"]) == E, f"episode count {len(col['id'])} != {E}")
    check(col["id"] == [e["id"] for e in eps], "episode ids")
    check(col["task"] == [e["task"] for e in eps], "tasks")
    check(col["app"] == [e["app"] for e in eps], "apps")
    check(col["domain"] == [e["domain"] for e in eps], "domains")
    check(col["template"] == [e.get("template") or "" for e in eps], "templates")
    check(col["split"] == [e.get("split") or "train" for e in eps], "splits")
    so = f["episodes/step_offset"][()]
    check(list(np.diff(so)) == [len(e["steps"]) for e in eps], "step offsets")
    actions = [s.decode() for s in f["steps/action"][()]]
    check(len(actions) == so[-1], "steps/action length")

    split_names = [s.decode() for s in f["meta/split_names"][()]]
    split_eps = dict(zip(split_names, f["meta/split_episodes"][()]))
    check(split_eps == dict(Counter(col["split"])), f"split episode counts {split_eps}")

    # samples
    vocab = {v: k for k, v in tok["model"]["vocab"].items()}
    added = {a["id"]: a["content"] for a in tok.get("added_tokens", [])}
    bd = byte_decoder()
    act_id = next(i for i, c in added.items() if c == "<|act|>")
    end_id = next(i for i, c in added.items() if c == "<|end|>")

    def decode(ids):
        out, run = [], bytearray()
        for i in ids:
            i = int(i)
            if i in added:
                out.append(run.decode("utf-8", "replace"))
                run = bytearray()
                out.append(added[i])
            else:
                run += bytes(bd[c] for c in vocab[i])
        out.append(run.decode("utf-8", "replace"))
        return "".join(out)

    # absent in stores written before positions: their prompts carry the ids
    index_ids = int(f["meta"].attrs.get("index_ids", 0))
    check(index_ids in (0, 1, 2), "index_ids attribute")  # ids, index in brackets, bare index
    tokens = f["samples/tokens"][()]
    mask = f["samples/mask"][()]
    off, length = f["samples/offset"][()], f["samples/length"][()]
    sep, sst = f["samples/episode"][()], f["samples/step"][()]
    N = len(off)
    split_samples = dict(zip(split_names, f["meta/split_samples"][()]))
    check(sum(split_samples.values()) == N, "split sample counts")
    check(int(length.sum()) == len(tokens) and len(mask) == len(tokens), "token totals")
    type_names = {"click", "type", "select", "hover", "press", "scroll", "goto", "back", "done"}
    for i in range(N):
        ids = tokens[off[i]:off[i] + length[i]]
        m = mask[off[i]:off[i] + length[i]]
        e, k = int(sep[i]), int(sst[i])
        on = np.flatnonzero(m)
        check(len(on) > 0 and on[-1] - on[0] + 1 == len(on) and set(np.unique(m)) <= {0, 1},
              f"sample {i}: mask is one run of ones")
        if len(on) == 0:
            continue
        a, b = on[0], on[-1] + 1
        check(a > 0 and ids[a - 1] == act_id, f"sample {i}: mask starts after <|act|>")
        check(b < len(ids) and ids[b] == end_id, f"sample {i}: mask ends before <|end|>")
        text = decode(ids)
        check(eps[e]["task"] in text, f"sample {i}: text holds the task")
        target = decode(ids[a:b])
        act = actions[so[e] + k]  # the action taken, with the recording's ids
        step = eps[e]["steps"][k]
        ja = step.get("target") or step["action"]  # the action the sample teaches
        words = act.split(" ")
        if index_ids and ja.get("element"):
            # the prompt names the element by its 1-based position in the step's observation,
            # written after the element's quoted name on its line
            pos = [el["id"] for el in step["observation"]["elements"]].index(ja["element"]) + 1
            obs = text[text.index("<|obs|>"):text.index("<|history|>")]
            mark = f'" [{pos}]' if index_ids == 1 else f'" {pos}'
            check(mark in obs and (index_ids == 1) == ('" [' in obs),
                  f"sample {i}: the observation names position {pos} as {mark!r}")
            if ja is step["action"]:
                at = 2 if words[0] == "scroll" else 1
                check(words[at] == ja["element"], f"sample {i}: element {ja['element']} in {act!r}")
                words[at] = str(pos)
        if ja is step["action"]:
            want = " ".join(words)
            check(target == want + " <end>", f"sample {i}: masked text {target!r} != {want!r} <end>")
        tw = target.split(" ")
        check(tw[0] == ja["type"] and tw[0] in type_names,
              f"sample {i}: action type {tw[0]} vs {ja['type']}")
        if ja.get("element"):
            el = str(pos) if index_ids else ja["element"]
            check(el in tw[1:3], f"sample {i}: element {el} in {target!r}")
    print(f"h5_check: {path}: {E} episodes, {len(actions)} steps, {N} samples, {len(tokens)} "
          f"tokens ({int(mask.sum())} masked) checked against {len(recs)} recording file(s): "
          f"{'OK' if not bad else f'{len(bad)} problems'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
