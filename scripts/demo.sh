#!/usr/bin/env bash
# The quick experiment, end to end, on the default model (Gemma 3 270M): set-up, PLND detection
# of English and Vietnamese neurons, training of the Vietnamese-specific neurons and of the same
# number of random neurons on a few Vietnamese Wikipedia articles, and perplexity of the base
# model and both arms on held-out Vietnamese and English text. Steps already done are reused
# (delete checkpoints/quick to start over). About 10-15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release --product langneuron
ln() { .build/release/langneuron "$@"; }
out=checkpoints/quick
mkdir -p "$out"

detect() { # language corpus output [extra...]
    local lang=$1 corpus=$2 file=$3; shift 3
    if [ ! -f "$file" ]; then
        echo "== detect $lang neurons"
        ln detect gemma3-270m --corpus "$corpus" --language "$lang" --documents 16 --max-tokens 256 \
            --top-k-attn 20 --top-k-ffn 100 -o "$file" "$@"
    fi
}
detect en plnd-en "$out/neurons-en.json"
detect vi wiki-vi "$out/neurons-vi.json" --exclude "$out/neurons-en.json"

train() { # run-dir [overrides...]
    local dir=$1; shift
    if [ -f "$dir/delta.safetensors" ]; then return; fi
    echo "== train $dir"
    if [ -f "$dir/state.safetensors" ]; then ln train --resume "$dir"; else ln train recipes/quick.yaml "$@"; fi
}
train "$out/vi"
train "$out/vi-random" --set neurons.file=null --set "neurons.random.match=$out/neurons-vi.json" \
    --set neurons.random.seed=1 --set "output=$out/vi-random"

echo "== perplexity on held-out documents (vi: the run's held-out split; en: the enwiki sample)"
ln eval gemma3-270m --languages vi,en --corpus "vi=$out/vi/heldout.jsonl.zst" --documents 12 --max-tokens 256 \
    --arm "language=$out/vi/delta.safetensors" --arm "random=$out/vi-random/delta.safetensors"
