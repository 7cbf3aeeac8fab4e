#!/usr/bin/env bash
# Data-parallel runs under Open MPI (2 ranks on loopback) against one process, on the tiny random
# Llama of ../shared/reference/tiny and the viwiki sample of ../shared/data:
#   detect   the same neuron set as one process; per-document importances byte-identical to one
#            process with the same thread count (1 per rank)
#   eval     perplexity within 1e-6 relative of one process, XQuAD and MGSM answers identical
#   train    losses within 1e-5 of one process, delta within 1e-5 relative (2-norm per tensor; one
#            process with 1 or 2 OpenBLAS threads differs by ~5e-6 in the same measure); two 2-rank runs
#            byte-identical; a 2-rank run stopped (SIGTERM to rank 1) and resumed with 2 ranks gives
#            the uninterrupted delta byte for byte
#   experiment  the same neuron set, deltas within 1e-5 and table (ppl within 1e-5) as one process
#   faults   rank 1 killed (SIGKILL) mid-run: the job ends non-zero with one line naming rank 1;
#            resuming with 1 process gives the uninterrupted 1-process delta within 1e-5 relative;
#            rank 1 failing alone (no data folder) ends the job with one line of ours naming it
# Needs a release build (.build/release/langneuron) and mpirun (Debian openmpi-bin; scripts/bootstrap.sh
# installs it). 88 s on this 2-core machine under load (build excluded). Usage: scripts/mpi-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
B="$PWD/.build/release/langneuron"
shared="${LANGNEURON_SHARED:-$PWD/../shared}"
T="$shared/reference/tiny/llama/model"
export LANGNEURON_DATA="$shared/data"
# Containers often forbid the cross-memory attach Open MPI's shared-memory transport tries first.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
MPI=(mpirun --allow-run-as-root --oversubscribe -np 2)
[ -x "$B" ] || { echo "mpi-test: $B is missing; build with swift build -c release" >&2; exit 1; }
# Like the XCTests that need ../shared, skip (loudly) when it is not there.
[ -e "$T/config.json" ] || { echo "mpi-test: SKIPPED: $T not found (set LANGNEURON_SHARED)"; exit 0; }
command -v mpirun >/dev/null || { echo "mpi-test: mpirun not found; run scripts/bootstrap.sh (Debian openmpi-bin)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
compare="$OLDPWD/scripts/mpi_compare.py"
cmp_() { python3 "$compare" "$@"; }
started=$SECONDS
ok() { echo "mpi-test: ok   $* ($((SECONDS - started)) s)"; }

# --- detect ------------------------------------------------------------------------------------
detect=(detect "$T" --corpus wiki-vi --language vi --documents 9 --max-tokens 64 --top-k-attn 4 --top-k-ffn 16 --consistency 0.5)
"$B" "${detect[@]}" -o one.json 2>/dev/null >/dev/null
OPENBLAS_NUM_THREADS=1 "$B" "${detect[@]}" --threads 1 -o one-t1.json --dump-scores one-t1.safetensors 2>/dev/null >/dev/null
"${MPI[@]}" "$B" "${detect[@]}" -o two.json --dump-scores two.safetensors 2>detect.err >/dev/null
grep -q "mpi: 2 ranks on 1 host" detect.err || { echo "mpi-test: detect did not report its ranks and threads:"; cat detect.err; exit 1; }
cmp one.json two.json
cmp one-t1.safetensors two.safetensors
[ "$(python3 -c 'import json,sys; print(sum(len(v) for l in json.load(open(sys.argv[1]))["layers"].values() for v in l.values()))' one.json)" -gt 0 ]
ok "detect: 2 ranks select the same neurons as 1 process; importances byte-identical at 1 thread per process"

# --- eval --------------------------------------------------------------------------------------
eval_=(eval "$T" --tasks ppl,xquad,mgsm --languages vi,en --benchmark-languages en --documents 7 --max-tokens 64 --limit 5 --batch-size 2 --json)
"$B" "${eval_[@]}" > eval-one.json 2>/dev/null
"${MPI[@]}" "$B" "${eval_[@]}" > eval-two.json 2>/dev/null
cmp_ eval eval-one.json eval-two.json 1e-6
ok "eval: 2 ranks give the same tables"

# --- train -------------------------------------------------------------------------------------
cat > recipe.yaml <<EOF
model: $T
language: vi
data: {train: wiki-vi, documents: 8, heldout: 2, seq_len: 32, seed: 1, min_chars: 200, max_tokens_per_document: 64}
neurons: {file: $work/one.json}
trainable: [attn_q, attn_k, attn_v, ffn_up, ffn_down]
optimizer: {lr: 3.0e-3, betas: [0.9, 0.999], eps: 1.0e-8, weight_decay: 0.0, clip_grad_norm: 0.3}
schedule: {warmup_ratio: 0.1, decay: cosine}
batch: {size: 3, accumulation: 2}
epochs: 6
output: run
checkpoint_every: 1
EOF
"$B" train recipe.yaml --set output=one >/dev/null 2>&1
"${MPI[@]}" "$B" train recipe.yaml --set output=two-a >/dev/null 2>&1
# The second run reduces in chunks of 1000 gradients instead of 2^20: the same bytes.
"${MPI[@]}" -x LANGNEURON_MPI_CHUNK=1000 "$B" train recipe.yaml --set output=two-b >/dev/null 2>&1
cmp_ losses one/metrics.jsonl two-a/metrics.jsonl 1e-5
cmp_ delta one/delta.safetensors two-a/delta.safetensors 1e-5
cmp two-a/delta.safetensors two-b/delta.safetensors
cmp two-a/state.safetensors two-b/state.safetensors
cmp_ same-metrics two-a/metrics.jsonl two-b/metrics.jsonl
ok "train: 2 ranks match 1 process; two 2-rank runs (chunks of 2^20 and of 1000 gradients) are byte-identical"

# The pid of rank $2 of the mpirun job $1 (its children carry OMPI_COMM_WORLD_RANK).
rank_pid() {
    local p
    for p in $(pgrep -P "$1"); do
        if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo "$p"; return; fi
    done
}
# Waits until run directory $1 has at least $2 steps in metrics.jsonl (and so a saved state).
wait_steps() {
    for _ in $(seq 1 600); do
        if [ -f "$1/metrics.jsonl" ] && [ "$(wc -l < "$1/metrics.jsonl")" -ge "$2" ]; then return; fi
        sleep 0.05
    done
    echo "mpi-test: $1 did not reach step $2" >&2; exit 1
}

# --- stop and resume with 2 ranks ---------------------------------------------------------------
"${MPI[@]}" "$B" train recipe.yaml --set output=stop >/dev/null 2>stop.err &
job=$!
wait_steps stop 5
kill -TERM "$(rank_pid $job 1)"
rc=0; wait $job || rc=$?
steps=$(wc -l < stop/metrics.jsonl)
[ "$rc" -ne 0 ] && [ ! -e stop/delta.safetensors ] && [ "$steps" -lt 18 ] || { echo "mpi-test: the stopped run did not stop (rc $rc, $steps steps)"; cat stop.err; exit 1; }
"${MPI[@]}" "$B" train --resume stop >/dev/null 2>&1
cmp stop/delta.safetensors two-a/delta.safetensors
ok "train: stopped at step $steps by SIGTERM to rank 1, resumed with 2 ranks: the uninterrupted delta, byte for byte"

# --- a rank killed, resumed with 1 process --------------------------------------------------------
"${MPI[@]}" "$B" train recipe.yaml --set output=kill >/dev/null 2>kill.err &
job=$!
wait_steps kill 5
kill -KILL "$(rank_pid $job 1)"
rc=0; wait $job || rc=$?
[ "$rc" -ne 0 ] || { echo "mpi-test: the job survived a killed rank"; exit 1; }
lines=$(grep -cE "rank 1 .*(exited|killed|signal)" kill.err || true)
[ "$lines" -eq 1 ] || { echo "mpi-test: expected one line naming rank 1, got $lines:"; cat kill.err; exit 1; }
[ ! -e kill/delta.safetensors ]
steps=$(wc -l < kill/metrics.jsonl)
"$B" train --resume kill >/dev/null 2>&1
cmp_ delta one/delta.safetensors kill/delta.safetensors 1e-5
ok "faults: rank 1 killed after step $steps: '$(grep -E "rank 1 .*(exited|killed|signal)" kill.err)'; resumed with 1 process"

# --- one rank fails alone (its data folder is missing): one line naming it, the job ends ----------
small=(detect "$T" --corpus wiki-vi --language vi --documents 4 --max-tokens 32 --top-k-ffn 4 -o alone.json)
rc=0
mpirun --allow-run-as-root --oversubscribe -np 1 -x LANGNEURON_DATA="$LANGNEURON_DATA" "$B" "${small[@]}" \
    : -np 1 -x LANGNEURON_DATA="$work/no-such-folder" "$B" "${small[@]}" >/dev/null 2>alone.err || rc=$?
[ "$rc" -ne 0 ] && [ "$(grep -c "^langneuron: rank 1 of 2 .*data set 'wiki-vi' is not present" alone.err)" -eq 1 ] \
    && [ "$(grep -c "^langneuron: rank 0" alone.err)" -eq 0 ] || { echo "mpi-test: a failing rank 1 was not reported in one line (rc $rc):"; cat alone.err; exit 1; }
ok "faults: rank 1 failing alone: '$(grep -m1 "^langneuron: rank 1" alone.err | cut -c1-90)…'"

# --- experiment: detect (English set removed), two trained arms, evaluation -------------------------
exp_recipe() {
    cat <<EOF
model: $T
language: vi
output: $1
detect: {corpus: wiki-vi, documents: 6, max_tokens: 64, top_k_attn: 4, top_k_ffn: 16, consistency: 0.5, exclude_english: {corpus: plnd-en, documents: 6}}
train: $work/recipe.yaml
train_overrides: [epochs=2]
arms: [language, random]
random_draws: 1
random_seed: 1
evaluate: {languages: [vi, en], tasks: [ppl], documents: 6, max_tokens: 64}
EOF
}
exp_recipe exp-one > exp-one.yaml
exp_recipe exp-two > exp-two.yaml
"$B" experiment exp-one.yaml >/dev/null 2>&1
"${MPI[@]}" "$B" experiment exp-two.yaml >/dev/null 2>&1
cmp exp-one/neurons-vi.json exp-two/neurons-vi.json
cmp_ delta exp-one/language/delta.safetensors exp-two/language/delta.safetensors 1e-5
cmp_ delta exp-one/random-1/delta.safetensors exp-two/random-1/delta.safetensors 1e-5
cmp_ eval exp-one/report.json exp-two/report.json 1e-5
ok "experiment: 2 ranks give the same neuron set, deltas and table"

# --- a command that does not split its work refuses several ranks ------------------------------
rc=0; "${MPI[@]}" "$B" tokenize "$T" "xin chào" >/dev/null 2>refuse.err || rc=$?
[ "$rc" -ne 0 ] && [ "$(grep -c "does not share its work among ranks" refuse.err)" -ge 1 ] || { echo "mpi-test: tokenize ran under 2 ranks (rc $rc)"; cat refuse.err; exit 1; }
ok "tokenize under 2 ranks: '$(grep -m1 "does not share" refuse.err)'"

echo "mpi-test: all passed in $((SECONDS - started)) s"
