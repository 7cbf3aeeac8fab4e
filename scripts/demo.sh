#!/usr/bin/env bash
# The quick experiment, end to end, on the default model (Gemma 3 270M): set-up, then
# `langneuron experiment recipes/quick.yaml` — PLND detection of English and Vietnamese neurons,
# training of the Vietnamese-specific neurons and of as many random neurons on a few Vietnamese
# Wikipedia articles, and perplexity of the base model and both arms on held-out Vietnamese and
# English. Finished steps are reused (delete checkpoints/quick to start over). About 8 minutes on
# 2 cores; the report is checkpoints/quick/report.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
swift build -c release --product langneuron
.build/release/langneuron experiment recipes/quick.yaml
