#!/usr/bin/env python3
"""Compares the outputs of runs with different numbers of MPI ranks (standard library only).

  mpi_compare.py delta A B TOL       every tensor: ||a-b|| / ||a|| <= TOL (2-norm; same names, shapes, rows);
                                     also prints the worst max|a-b| / max|a|
  mpi_compare.py losses A B TOL      metrics.jsonl: same steps and tokens, |loss_a - loss_b| <= TOL
  mpi_compare.py same-metrics A B    metrics.jsonl: step, loss, lr, grad_norm, tokens bit-identical
  mpi_compare.py eval A B TOL        eval --json: every ppl* within TOL relative (ppl_change*, in %: 200·TOL points), every other metric equal
Prints the worst difference; exits 1 when a check fails.
"""
import json
import struct
import sys


def safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        raw = data[8 + n + start:8 + n + end]
        fmt = {"F32": "f", "I32": "i"}[info["dtype"]]
        tensors[name] = (info["shape"], struct.unpack("<%d%s" % (len(raw) // 4, fmt), raw))
    return meta, tensors


def metrics(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    kind, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
    if kind == "delta":
        tol = float(sys.argv[4])
        _, ta = safetensors(a)
        _, tb = safetensors(b)
        if sorted(ta) != sorted(tb):
            fail("tensor names differ")
        worst, worst_max = 0.0, 0.0
        for name in ta:
            (sa, va), (sb, vb) = ta[name], tb[name]
            if sa != sb:
                fail("%s: shape %s vs %s" % (name, sa, sb))
            if not name.endswith(".delta"):
                if va != vb:
                    fail("%s differs" % name)
                continue
            norm = sum(x * x for x in va) ** 0.5 or 1.0
            worst = max(worst, sum((x - y) ** 2 for x, y in zip(va, vb)) ** 0.5 / norm)
            scale = max(abs(x) for x in va) or 1.0
            worst_max = max(worst_max, max(abs(x - y) for x, y in zip(va, vb)) / scale)
        print("delta: %d tensors, worst ||a-b||/||a|| = %.3g (tolerance %g), worst max|a-b|/max|a| = %.3g"
              % (len(ta), worst, tol, worst_max))
        if worst > tol:
            fail("delta differs by more than %g" % tol)
    elif kind in ("losses", "same-metrics"):
        ma, mb = metrics(a), metrics(b)
        if [(r["step"], r["tokens"]) for r in ma] != [(r["step"], r["tokens"]) for r in mb]:
            fail("steps or tokens differ")
        if kind == "same-metrics":
            keys = ("step", "epoch", "loss", "lr", "grad_norm", "tokens")
            if [[r[k] for k in keys] for r in ma] != [[r[k] for k in keys] for r in mb]:
                fail("metrics differ")
            print("metrics: %d steps, identical" % len(ma))
        else:
            tol = float(sys.argv[4])
            worst = max(abs(x["loss"] - y["loss"]) for x, y in zip(ma, mb))
            print("losses: %d steps, worst |a-b| = %.3g (tolerance %g)" % (len(ma), worst, tol))
            if worst > tol:
                fail("losses differ by more than %g" % tol)
    elif kind == "eval":
        tol = float(sys.argv[4])
        with open(a) as f:
            ea = json.load(f)
        with open(b) as f:
            eb = json.load(f)
        worst, worst_change, n = 0.0, 0.0, 0
        for arm, langs in ea["arms"].items():
            for lang, values in langs.items():
                other = eb["arms"][arm][lang]
                if sorted(values) != sorted(other):
                    fail("%s %s: metrics %s vs %s" % (arm, lang, sorted(values), sorted(other)))
                for key, x in values.items():
                    y = other[key]
                    n += 1
                    if key.startswith("ppl_change"):
                        # A change in % of two perplexities, 100·(p/q − 1): each within TOL relative
                        # moves it by at most 200·TOL points, however close to 0 it is.
                        worst_change = max(worst_change, abs(x - y))
                    elif key.startswith("ppl"):
                        worst = max(worst, abs(x - y) / abs(x))
                    elif x != y:
                        fail("%s %s %s: %r vs %r" % (arm, lang, key, x, y))
        print("eval: %d values, perplexities within %.3g relative (tolerance %g), their changes within %.3g points "
              "(tolerance %g), the rest equal" % (n, worst, tol, worst_change, 200 * tol))
        if worst > tol:
            fail("perplexity differs by more than %g" % tol)
        if worst_change > 200 * tol:
            fail("perplexity change differs by more than %g points" % (200 * tol))
    else:
        fail("unknown comparison " + kind)


main()
