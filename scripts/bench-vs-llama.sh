#!/usr/bin/env bash
# Side-by-side throughput of langneuron and llama.cpp on the same GGUF files, interleaved so that
# both see the same machine: batch-1 decoding (llama-bench tg64 vs `bench generate`) and 512-token
# prompts (llama-bench pp512, last-token logits, vs `bench forward`, head on every token).
# A benchmark, not a test: it prints a table and writes JSON lines to .bench/vs-llama.jsonl.
#
#   LANGNEURON_LLAMA_CPP_BIN=DIR scripts/bench-vs-llama.sh [MODEL ...]
#
# DIR holds llama-bench (build: see docs/memory.md; scripts/interop.sh builds llama.cpp under
# .interop/llama.cpp). MODEL: default names or GGUF files; default gemma3-270m smollm2-135m.
# ROUNDS (default 2) repeats the interleaved pair; the best of each is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${LANGNEURON_LLAMA_CPP_BIN:-.interop/llama.cpp/build/bin}"
[ -x "$bin/llama-bench" ] || { echo "no llama-bench in $bin: set LANGNEURON_LLAMA_CPP_BIN (docs/memory.md)" >&2; exit 2; }
ln=.build/release/langneuron
[ -x "$ln" ] || swift build -c release
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(gemma3-270m smollm2-135m)
rounds="${ROUNDS:-2}"
threads="$(nproc)"
mkdir -p .bench
out=.bench/vs-llama.jsonl
python3 - "$ln" "$bin/llama-bench" "$threads" "$rounds" "$out" "${models[@]}" <<'PY'
import json, subprocess, sys
ln, lb, threads, rounds, out, *models = sys.argv[1:]
rounds = int(rounds)

def path_of(spec):
    if spec.endswith(".gguf"):
        return spec
    info = json.loads(subprocess.run([ln, "info", spec, "--json"], check=True, capture_output=True, text=True).stdout)
    return info["model"]["path"]

def llama(path, p, n):
    r = subprocess.run([lb, "-m", path, "-p", str(p), "-n", str(n), "-t", threads, "-r", "3", "-o", "json"],
                       check=True, capture_output=True, text=True)
    return max(x["avg_ts"] for x in json.loads(r.stdout))

def ours(args):
    r = subprocess.run([ln, "bench", *args, "--json"], check=True, capture_output=True, text=True)
    return json.loads(r.stdout)["results"][0]

rows = []
for spec in models:
    path = path_of(spec)
    best = {"tg_llama": 0, "tg_ours": 0, "pp_llama": 0, "pp_ours": 0}
    extra = {}
    for _ in range(rounds):
        best["tg_llama"] = max(best["tg_llama"], llama(path, 0, 64))
        g = ours(["generate", "--models", spec, "--batches", "1", "--new-tokens", "64"])
        if g["tokens_per_s"] > best["tg_ours"]:
            best["tg_ours"] = g["tokens_per_s"]
            extra.update(weight_gb_per_s=g["weight_gb_per_s"], read_bandwidth_gb_per_s=g["read_bandwidth_gb_per_s"],
                         decode_peak_rss_mb=g["peak_rss_mb"])
        best["pp_llama"] = max(best["pp_llama"], llama(path, 512, 0))
        f = ours(["forward", "--models", spec, "--tokens", "512", "--repeats", "2"])
        if f["tokens_per_s"] > best["pp_ours"]:
            best["pp_ours"] = f["tokens_per_s"]
            extra.update(score_fraction_of_peak=f["fraction_of_peak"], score_peak_rss_mb=f["peak_rss_mb"])
    row = {"model": spec, "file": path, "threads": int(threads), **best, **extra}
    rows.append(row)
    with open(out, "a") as fh:
        fh.write(json.dumps(row) + "\n")

print("| model | decode tok/s (ours) | llama.cpp tg64 | ratio | weights GB/s (of read bw) | score 512 tok/s (ours, head on every token) | llama.cpp pp512 | ratio |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['model']} | {r['tg_ours']:.1f} | {r['tg_llama']:.1f} | {r['tg_ours'] / r['tg_llama']:.2f}× | "
          f"{r['weight_gb_per_s']:.1f} ({r['read_bandwidth_gb_per_s']:.1f}) | {r['pp_ours']:.1f} | {r['pp_llama']:.1f} | {r['pp_ours'] / r['pp_llama']:.2f}× |")
PY
