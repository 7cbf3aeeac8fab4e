#!/usr/bin/env python3
"""Share of articles whose cleaned text still shows link or template markup.

Usage: corpus-residue.py OUTPUT [OUTPUT ...]
OUTPUT is a JSON lines file (`langneuron corpus extract --out X.jsonl`, optionally .zst via the
`zstd` command) or a WikiExtractor `--json` output directory (every file below it is read).
Prints, per output: articles, articles with `[[`/`]]` residue, with `{{`/`}}` residue, with either.
"""
import json, os, subprocess, sys

def lines(path):
    if os.path.isdir(path):
        for root, _, files in sorted(os.walk(path)):
            for f in sorted(files):
                with open(os.path.join(root, f), encoding="utf-8") as h:
                    yield from h
    elif path.endswith(".zst"):
        yield from subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout.decode("utf-8").splitlines()
    else:
        with open(path, encoding="utf-8") as h:
            yield from h

for path in sys.argv[1:]:
    n = links = templates = either = 0
    for line in lines(path):
        if not line.strip():
            continue
        text = json.loads(line)["text"]
        if not text.strip():
            continue
        n += 1
        l = "[[" in text or "]]" in text
        t = "{{" in text or "}}" in text
        links += l
        templates += t
        either += l or t
    share = 100 * either / max(n, 1)
    print(f"{path}: {n} articles, link residue {links}, template residue {templates}, either {either} ({share:.1f}%)")
