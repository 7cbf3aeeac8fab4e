#!/usr/bin/env bash
# The quick experiment, end to end, on the default model (Gemma 3 270M): set-up, then
# `langneuron experiment recipes/quick.yaml` — PLND detection of English and Vietnamese neurons,
# training of the Vietnamese-specific neurons, of three draws of as many random neurons and of every
# row/column of the same matrices on a few Vietnamese Wikipedia articles, and perplexity of the base
# model and every arm on held-out Vietnamese and English. Finished steps are reused (delete
# checkpoints/quick to start over). The report is checkpoints/quick/report.md and report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release --product langneuron
.build/release/langneuron experiment recipes/quick.yaml
