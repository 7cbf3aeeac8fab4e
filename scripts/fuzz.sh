#!/usr/bin/env bash
# Long fuzz run against the built binary: scripts/fuzz.sh [N] [SEED]
#
# Writes the fuzz suite's fixture files (a tiny Llama as GGUF and as a Hugging Face directory, a
# delta, a training state, a neuron set, a recipe, tokenizer.json, JSON lines), then runs N cases:
# each mutates one file (seeded: truncation, byte flips, huge counts, deleted, duplicated or nested
# spans) and runs the command that reads it. A case passes when the command exits 0, or exits 1
# with a one-line error as the last line of stderr (progress lines may precede it); a signal
# (trap, stack overflow), any other exit code, a multi-line message or a hang fails the run. Failing inputs are kept under $FUZZ_OUT (default
# .build/fuzz/failures) with the command that failed.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500}
SEED=${2:-1}
OUT=${FUZZ_OUT:-.build/fuzz}
BIN=.build/release/langneuron
ROOT=$PWD

command -v python3 >/dev/null || { echo "fuzz.sh needs python3 (apt-get install python3)" >&2; exit 2; }
swift build -c release -Xswiftc -enable-testing --build-tests >"${OUT%/}.build.log" 2>&1 \
    || { tail -20 "${OUT%/}.build.log" >&2; exit 2; }

rm -rf "$OUT"
mkdir -p "$OUT/fixtures" "$OUT/failures"
OUT=$(cd "$OUT" && pwd)
FUZZ_FIXTURES="$OUT/fixtures" swift test -c release -Xswiftc -enable-testing --skip-build \
    --filter 'FuzzTests.FuzzTests/testWriteFixtures' >"$OUT/fixtures.log" 2>&1 \
    || { cat "$OUT/fixtures.log" >&2; echo "fuzz.sh: could not write the fixtures" >&2; exit 2; }

# A real run directory (delta, resumable state, recipe) from the tool itself.
(cd "$OUT/fixtures" && "$ROOT/$BIN" train recipe.yaml >"../train.log" 2>&1) \
    || { cat "$OUT/train.log" >&2; echo "fuzz.sh: training the fixture model failed" >&2; exit 2; }
cp "$OUT/fixtures/run/delta.safetensors" "$OUT/fixtures/delta.safetensors"
[ -f "$OUT/fixtures/run/state.safetensors" ] || { echo "fuzz.sh: the fixture run left no state.safetensors" >&2; exit 2; }

exec python3 - "$N" "$SEED" "$ROOT/$BIN" "$OUT" <<'PY'
import os, random, shutil, subprocess, sys, time

n, seed, binary, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
fx = os.path.join(out, "fixtures")
work = os.path.join(out, "work")
rng = random.Random(seed)

# (name, file inside the fixture tree, is text, command given the work tree)
targets = [
    ("gguf", "model.gguf", False, lambda w: ["info", f"{w}/model.gguf"]),
    ("gguf-tokenize", "model.gguf", False, lambda w: ["tokenize", f"{w}/model.gguf", "hello there"]),
    ("safetensors", "hf/model.safetensors", False, lambda w: ["score", f"{w}/hf", "--text-file", f"{w}/text.txt"]),
    ("config", "hf/config.json", True, lambda w: ["info", f"{w}/hf"]),
    ("tokenizer", "hf/tokenizer.json", True, lambda w: ["tokenize", f"{w}/hf", "hello there, hell!"]),
    ("delta", "delta.safetensors", False, lambda w: ["score", f"{w}/hf", "--delta", f"{w}/delta.safetensors", "--text-file", f"{w}/text.txt"]),
    ("state", "run/state.safetensors", False, lambda w: ["train", "--resume", f"{w}/run"]),
    ("neurons", "neurons.json", True, lambda w: ["neurons", "show", f"{w}/neurons.json", "--svg", f"{w}/neurons.svg"]),
    ("recipe", "recipe.yaml", True, lambda w: ["train", f"{w}/recipe.yaml"]),
    ("jsonl", "docs.jsonl", True, lambda w: ["corpus", "extract", f"{w}/docs.jsonl", "--out", f"{w}/out.jsonl"]),
]
U64 = [2**64 - 1, 2**63 - 1, 2**63, 2**32, 2**40, 0, 1, 2**32 - 1]
U32 = [2**32 - 1, 2**31, 2**31 - 1, 0, 1, 4, 9, 13, 2**16]
SNIPPETS = [b"[", b"]", b"{", b"}", b'"', b"\\", b":", b",", b"-", b"&a ", b"*a", b"\n  ", b"\x00", b"\xff",
            b"99999999999999999999", b"-1", b"1e400", b"-9223372036854775808", b"null", b"true"]

def header_end(data, name):
    if name.endswith(".safetensors") and len(data) >= 8:
        return 8 + int.from_bytes(data[:8], "little")
    return len(data)

def mutate(data, text, hdr):
    b = bytearray(data)
    def off():
        span = max(1, min(hdr, len(b))) if (not text and rng.random() < 0.8) else max(1, len(b))
        return rng.randrange(span)
    k = rng.randrange(9 if text else 5)
    if k == 0:
        m = rng.randrange(len(b)); return bytes(b[:m]), f"truncated to {m} bytes"
    if k == 1:
        at = [off() for _ in range(rng.randint(1, 4))]
        for o in at: b[o] = rng.randrange(256)
        return bytes(b), f"random bytes at {at}"
    if k in (2, 3):
        o = off(); v = rng.choice(U64 if k == 2 else U32)
        raw = v.to_bytes(8 if k == 2 else 4, "little")
        b[o:o + len(raw)] = raw[:max(0, len(b) - o)]
        return bytes(b[:len(data)]), f"{'u64' if k == 2 else 'u32'} {v} at {o}"
    if k == 4:
        o = off(); bit = rng.randrange(8); b[o] ^= 1 << bit
        return bytes(b), f"bit {bit} flipped at {o}"
    if k == 5:
        o = rng.randrange(len(b)); m = rng.randint(1, min(64, len(b) - o)); del b[o:o + m]
        return bytes(b), f"deleted {m} bytes at {o}"
    if k == 6:
        o = rng.randrange(len(b)); m = rng.randint(1, min(256, len(b) - o)); at = rng.randrange(len(b))
        b[at:at] = b[o:o + m]
        return bytes(b), f"duplicated {m} bytes from {o}"
    if k == 7:
        s = rng.choice(SNIPPETS); o = rng.randrange(len(b) + 1); b[o:o] = s
        return bytes(b), f"inserted {s!r} at {o}"
    opener = rng.choice([b"[", b"{", b"- ", b'[{"a": ']); m = rng.choice([100, 3000, 20000]); o = rng.randrange(len(b) + 1)
    b[o:o] = opener * m
    return bytes(b), f"inserted {m} x {opener!r} at {o}"

failures = 0
counts = {}
t0 = time.time()
for i in range(n):
    name, rel, text, cmd = targets[rng.randrange(len(targets))]
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(fx, work)
    path = os.path.join(work, rel)
    data = open(path, "rb").read()
    mutated, what = mutate(data, text, header_end(data, rel))
    open(path, "wb").write(mutated)
    args = [binary] + cmd(work)
    try:
        p = subprocess.run(args, cwd=work, capture_output=True, timeout=120)
        rc, err = p.returncode, p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        rc, err = "timeout", ""
    # Progress and warnings may precede it; the error is the last line, and the only one.
    lines = [l for l in err.splitlines() if l.strip()]
    errors = [l for l in lines if l.startswith("Error")]
    ok = rc == 0 or (rc == 1 and len(errors) == 1 and lines[-1].startswith("Error: "))
    counts[(name, rc)] = counts.get((name, rc), 0) + 1
    if not ok:
        failures += 1
        keep = os.path.join(out, "failures", f"{i:05d}-{name}")
        shutil.copytree(work, keep)
        with open(os.path.join(keep, "FAILURE.txt"), "w") as f:
            f.write(f"seed {seed} case {i}: {name}: {what}\ncommand: {' '.join(args)}\nexit: {rc}\nstderr:\n{err}\n")
        print(f"FAIL case {i} {name} ({what}): exit {rc}: {err.strip()[:300]}", file=sys.stderr)
shutil.rmtree(work, ignore_errors=True)
summary = ", ".join(f"{k[0]} exit {k[1]}: {v}" for k, v in sorted(counts.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))))
print(f"fuzz.sh: {n} cases (seed {seed}) in {time.time() - t0:.0f} s, {failures} failures; {summary}")
sys.exit(1 if failures else 0)
PY
