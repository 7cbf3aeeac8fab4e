#!/usr/bin/env bash
# Checks `langneuron export` adapters with the tools that load them: PEFT on transformers, llama.cpp
# (`llama-perplexity --lora`) and mlx-lm (scripts/interop.py says what is compared, with tolerances).
# Sets up what it needs on a fresh Debian machine and caches it under .interop/ (git-ignored):
#   .interop/venv        Python: torch, transformers, peft, safetensors, gguf, mlx-lm (about 6 GB)
#   .interop/llama.cpp   llama.cpp from the llama-cpp-python sdist on PyPI (its vendored source), built
#                        with cmake from Debian: 8 minutes or more on 2 cores the first time (33 minutes
#                        measured on a machine shared with four other builds)
# Set LANGNEURON_LLAMA_CPP_BIN to a directory holding llama-perplexity to use an existing build.
# Arguments go to interop.py, e.g. scripts/interop.sh --only tiny-llama,smollm2-135m
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cache="$root/.interop"
mkdir -p "$cache"
start=$(date +%s)

scripts/bootstrap.sh --no-models
if [ ! -x .build/release/langneuron ]; then swift build -c release; fi
ln="$root/.build/release/langneuron"
"$ln" models fetch

apt_install() {
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
    else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; fi
}

# Python environment (PyPI's torch wheel brings CUDA libraries, about 4 GB, which torch needs to import).
venv="$cache/venv"
py="$venv/bin/python"
if [ ! -f "$venv/.complete" ]; then
    python3 -m venv --help >/dev/null 2>&1 || apt_install python3-venv
    rm -rf "$venv"
    python3 -m venv "$venv"
    pip=("$venv/bin/pip" install -q --disable-pip-version-check)
    "${pip[@]}" torch==2.15.0 peft==0.21.2 transformers==5.24.0 numpy==2.4.6 safetensors==0.8.0 gguf==0.19.0 sentencepiece
    # mlx-lm's own loader where mlx installs (it has Linux CPU wheels); otherwise a format check.
    "${pip[@]}" "mlx[cpu]==0.32.4" mlx-lm==0.32.2 || echo "mlx-lm did not install: mlx adapters get the format check only"
    touch "$venv/.complete"
fi

# llama.cpp.
bin="${LANGNEURON_LLAMA_CPP_BIN:-}"
if [ -z "$bin" ]; then
    src="$cache/llama.cpp/src"
    build="$cache/llama.cpp/build"
    bin="$build/bin"
    if [ ! -x "$bin/llama-perplexity" ]; then
        command -v cmake >/dev/null || apt_install cmake
        if [ ! -f "$src/CMakeLists.txt" ]; then
            rm -rf "$cache/llama.cpp/dl" "$src"
            mkdir -p "$cache/llama.cpp/dl"
            # The sdist vendors llama.cpp's source; --no-binary for this package only (":all:"
            # would build cmake from source too).
            "$venv/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
                llama-cpp-python==0.3.36 -d "$cache/llama.cpp/dl"
            tar -xzf "$cache"/llama.cpp/dl/llama_cpp_python-0.3.36.tar.gz -C "$cache/llama.cpp/dl"
            mv "$cache/llama.cpp/dl/llama_cpp_python-0.3.36/vendor/llama.cpp" "$src"
            rm -rf "$cache/llama.cpp/dl"
        fi
        echo "building llama.cpp (llama-perplexity) in $build"
        cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON \
            -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF \
            >"$cache/llama.cpp/cmake.log" 2>&1 || { tail -20 "$cache/llama.cpp/cmake.log"; exit 1; }
        cmake --build "$build" -j"$(nproc)" --target llama-perplexity >"$cache/llama.cpp/build.log" 2>&1 \
            || { tail -40 "$cache/llama.cpp/build.log"; exit 1; }
    fi
fi

shared="${LANGNEURON_SHARED:-$root/../shared}"
models="${LANGNEURON_MODELS:-$root/checkpoints/base}"
work="${LANGNEURON_INTEROP_WORK:-$root/checkpoints/interop}"   # cleared first
rm -rf "$work"
status=0
"$py" scripts/interop.py --langneuron "$ln" --work "$work" --shared "$shared" --models-dir "$models" \
    --llama-bin "$bin" "$@" || status=$?
echo "interop wall time: $(( $(date +%s) - start )) s"
exit $status
