#!/usr/bin/env python3
"""Checks the adapters `langneuron export` writes with the tools that consume them.

For each model (the tiny Hugging Face checkpoints of ../shared/reference/tiny and the two default
GGUF models) it trains a small delta with `langneuron train`, then:
  * PEFT: `PeftModel.from_pretrained` on the transformers model gives the per-token NLL of
    `langneuron score --delta` (tolerance 1e-4 tiny, 1e-3 GGUF), with and without --pad-rank, and
    that of a trained LoRA adapter (`train` with `lora: {rank: 2, alpha: 8}`, RUN/adapter) with
    `langneuron score --delta RUN/adapter`;
  * llama.cpp (GGUF models): `llama-perplexity --lora ADAPTER` gives the perplexity of the merged
    GGUF (`langneuron merge`), relative tolerance 1e-3, on the base merged at scale 0 (the same
    tensors in F32, as in the merged file); on the quantised base with a tolerance widened by how
    much F32 tensors alone move the base; and it differs from the base's;
  * mlx-lm: its own loader with the adapter gives the NLL (tolerance 1e-4) where mlx-lm runs and
    the base is a Hugging Face directory; otherwise the files are read back and B·A rebuilt
    against the delta (exact up to float32 rounding of a sum with one non-zero term: 0).
Run through scripts/interop.sh, which sets up the Python environment and llama.cpp.
"""
import argparse
import copy
import json
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

TINY = ["llama", "mistral", "qwen2", "qwen3", "gemma3"]
GGUF_MODELS = {"gemma3-270m": "gemma-3-270m-q4_k_m.gguf", "smollm2-135m": "SmolLM2-135M-Instruct.Q4_1.gguf"}
PAD_RANK = 8          # every module trains at most MAX_UNITS rows/columns
MAX_UNITS = 6

results = []          # (name, check, ok, detail)


def log(msg):
    print(msg, flush=True)


def check(model, what, ok, detail):
    results.append((model, what, bool(ok), detail))
    log(f"  {'ok  ' if ok else 'FAIL'} {what}: {detail}")


def run(cmd, stderr=False):
    """Runs a command, failing on a non-zero exit; returns its stdout (with stderr after it if asked)."""
    cmd = [str(c) for c in cmd]
    log("  + " + " ".join(cmd))
    p = subprocess.run(cmd, text=True, capture_output=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-4000:] + p.stderr[-4000:])
        raise SystemExit(f"command failed ({p.returncode}): {' '.join(cmd)}")
    return p.stdout + (p.stderr if stderr else "")


def sentences(rng, n):
    """Deterministic varied English prose (the check needs text, not good text)."""
    subjects = ["The river", "A small village", "The old library", "Our teacher", "The northern road", "A quiet market",
                "The council", "Every farmer", "The museum", "A young engineer", "The harbour", "The forest"]
    verbs = ["opened", "described", "crossed", "protected", "changed", "measured", "built", "visited", "recorded", "followed"]
    objects = ["the bridge near the station", "a map of the valley", "the history of the town", "three new schools",
               "the water level in spring", "a long report on trade", "the mountain pass", "the first railway line",
               "a collection of letters", "the price of rice", "the eastern coast", "a festival in autumn"]
    tails = ["in 1886.", "after the storm.", "during the long winter.", "before the war.", "for many years.",
             "with great care.", "at the end of the century.", "because the roads were closed.", "in the next decade."]
    return " ".join(f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} {rng.choice(tails)}" for _ in range(n))


def neuron_set(info, rng):
    layers = {}
    dims = {"attn_q": info["heads"] * info["head_dim"], "attn_k": info["kv_heads"] * info["head_dim"],
            "attn_v": info["kv_heads"] * info["head_dim"], "attn_output": info["heads"] * info["head_dim"], "ffn": info["ffn"]}
    for l in range(info["layers"]):
        layers[str(l)] = {k: sorted(rng.sample(range(n), rng.randint(1, MAX_UNITS))) for k, n in dims.items()}
    return {"format": "langneuron.neurons/1", "language": "en", "layers": layers}


def nll_from_logits(logits, ids):
    import torch
    logp = torch.log_softmax(logits.double(), dim=-1)
    t = torch.tensor(ids[1:])
    return (-logp[:-1].gather(1, t[:, None])[:, 0]).numpy()


def torch_nll(model, ids):
    import torch
    with torch.no_grad():
        return nll_from_logits(model(torch.tensor([ids])).logits[0], ids)


def mlx_nll(model, ids):
    import mlx.core as mx
    model.set_dtype(mx.float32)  # mlx-lm computes in the checkpoint's dtype (bf16/f16); langneuron in float32
    logits = model(mx.array([ids]))[0].astype(mx.float32)
    logp = np.array(logits - mx.logsumexp(logits, axis=-1, keepdims=True), dtype=np.float64)
    return -logp[np.arange(len(ids) - 1), ids[1:]]


def load_transformers(kind, path):
    import torch
    from transformers import AutoModelForCausalLM
    if kind == "hf":
        m = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    else:
        m = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32, attn_implementation="eager")
    return m.eval()


def dense_delta(delta_path):
    """name -> (rows|cols, indices, values) from a langneuron delta."""
    d = load_file(delta_path)
    out = {}
    for k, v in d.items():
        if k.endswith(".delta"):
            n = k[: -len(".delta")]
            out[n] = ("rows", d[n + ".rows"], v) if n + ".rows" in d else ("cols", d[n + ".cols"], v)
    return out


def hf_rows_of_gguf(n_head, head_dim):
    """perm[g] = Hugging Face row stored at GGUF row g, by convert_hf_to_gguf's reshape/swapaxes."""
    idx = np.arange(n_head * head_dim).reshape(n_head, 2, head_dim // 2).swapaxes(1, 2).reshape(-1)
    return idx


GGUF_TO_HF = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
              "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}


def expected_hf_deltas(delta_path, info):
    """HF module -> dense ΔW [out, in] in Hugging Face layout, computed independently of langneuron's exporter."""
    out = {}
    permuted = info["format"] == "gguf" and info["architecture"] in ("llama", "mistral")
    for name, (kind, idx, vals) in dense_delta(delta_path).items():
        if name.startswith("blk."):
            _, l, stem, _ = name.split(".")
            module = f"model.layers.{l}.{GGUF_TO_HF[stem]}"
        else:
            module, stem = name[: -len(".weight")], name.split(".")[-2]
        hidden = info["hidden"]
        if kind == "rows":
            n_out = {"attn_q": info["heads"] * info["head_dim"], "q_proj": info["heads"] * info["head_dim"],
                     "attn_k": info["kv_heads"] * info["head_dim"], "k_proj": info["kv_heads"] * info["head_dim"],
                     "attn_v": info["kv_heads"] * info["head_dim"], "v_proj": info["kv_heads"] * info["head_dim"]}.get(stem, info["ffn"])
            w = np.zeros((n_out, hidden), np.float32)
            w[idx] = vals
            if permuted and stem in ("attn_q", "attn_k"):
                heads = info["heads"] if stem == "attn_q" else info["kv_heads"]
                perm = hf_rows_of_gguf(heads, info["head_dim"])
                hf = np.zeros_like(w)
                hf[perm] = w
                w = hf
        else:
            n_in = info["heads"] * info["head_dim"] if stem in ("attn_output", "o_proj") else info["ffn"]
            w = np.zeros((hidden, n_in), np.float32)
            w[:, idx] = vals.T
        out[module] = w
    return out


def roundtrip(model, label, factors, expected):
    """factors: module -> (B [out, r], A [r, in]); compares B·A with the delta."""
    worst, missing = 0.0, sorted(set(expected) - set(factors))
    for module, w in expected.items():
        if module in factors:
            b, a = factors[module]
            worst = max(worst, float(np.abs(b.astype(np.float64) @ a.astype(np.float64) - w).max()))
    extra = sorted(set(factors) - set(expected))
    check(model, label, worst == 0.0 and not missing and not extra,
          f"{len(expected)} modules, max |B·A − ΔW| = {worst:.1e} (tolerance 0), missing {missing[:3]}, extra {extra[:3]}")


def llama_ppl(bin_dir, model_path, text, lora=None):
    # F32 KV cache and no flash attention: with the default F16 cache, x·W + (x·A)·B and x·(W + ΔW),
    # equal up to float32 rounding, differ by up to 7e-4 in perplexity (measured on smollm2-135m).
    cmd = [Path(bin_dir) / "llama-perplexity", "-m", model_path, "-f", text, "-c", "128", "-b", "128", "--chunks", "4", "-t", "2",
           "-ctk", "f32", "-ctv", "f32", "-fa", "off"]
    if lora:
        cmd += ["--lora", lora]
    out = run(cmd, stderr=True)  # llama.cpp logs the estimate on stderr
    m = re.search(r"Final estimate: PPL = ([0-9.]+)", out)
    if not m:
        raise SystemExit("llama-perplexity printed no final estimate")
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--langneuron", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--llama-bin", default="")
    ap.add_argument("--only", default="", help="comma-separated model names")
    args = ap.parse_args()
    ln = args.langneuron
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    models = [(f"tiny-{a}", "hf", Path(args.shared) / "reference/tiny" / a / "model", 1e-4) for a in TINY]
    models += [(n, "gguf", Path(args.models_dir) / f, 1e-3) for n, f in GGUF_MODELS.items()]
    if args.only:
        keep = set(args.only.split(","))
        models = [m for m in models if m[0] in keep]

    try:
        import mlx.core as mx
        from mlx_lm import load as mlx_load
        have_mlx = True
    except Exception as e:  # mlx-lm does not install or run everywhere
        log(f"mlx-lm not available ({type(e).__name__}: {e}); mlx adapters get the format round-trip only")
        have_mlx = False

    sizes = {}
    for name, kind, path, tol in models:
        t0 = time.time()
        log(f"== {name} ({path.name})")
        w = work / name
        shutil.rmtree(w, ignore_errors=True)
        w.mkdir()
        rng = random.Random(7)
        info = json.loads(run([ln, "info", path, "--json"]))["model"]
        (w / "neurons.json").write_text(json.dumps(neuron_set(info, rng)))
        with open(w / "train.jsonl", "w") as f:
            for i in range(6):
                f.write(json.dumps({"title": f"doc {i}", "text": sentences(rng, 12)}) + "\n")
        (w / "eval.txt").write_text(sentences(rng, 10))
        long_text = w / "long.txt"
        long_text.write_text(sentences(random.Random(3), 160))
        lr = 5e-3 if kind == "hf" else 1e-3
        (w / "recipe.yaml").write_text(f"""model: {path}
language: en
data: {{train: {w / 'train.jsonl'}, documents: 5, heldout: 1, seq_len: 32, seed: 1, min_chars: 50}}
neurons: {{file: {w / 'neurons.json'}}}
trainable: [attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down]
optimizer: {{lr: {lr}, betas: [0.9, 0.999], eps: 1.0e-8, weight_decay: 0.0, clip_grad_norm: 1.0}}
schedule: {{warmup_ratio: 0.0, decay: constant}}
batch: {{size: 2, accumulation: 1}}
epochs: 1
output: {w / 'run'}
checkpoint_every: 100
""")
        run([ln, "train", w / "recipe.yaml"])
        delta = w / "run" / "delta.safetensors"
        ln_base = json.loads(run([ln, "score", path, "--text-file", w / "eval.txt", "--json"]))
        ln_delta = json.loads(run([ln, "score", path, "--delta", delta, "--text-file", w / "eval.txt", "--json"]))
        ids = ln_delta["ids"]
        ref = np.array(ln_delta["nll"])
        moved = float(np.abs(ref - np.array(ln_base["nll"])).max())
        check(name, "delta is visible", moved > 10 * tol, f"max |NLL(delta) − NLL(base)| = {moved:.2e} (must exceed 10 × {tol:g})")

        run([ln, "export", delta, "--format", "peft", "--base", path, "-o", w / "peft"])
        run([ln, "export", delta, "--format", "peft", "--base", path, "-o", w / "peft-pad", "--pad-rank", PAD_RANK])
        run([ln, "export", delta, "--format", "mlx", "--base", path, "-o", w / "mlx"])
        sz = {"delta": delta.stat().st_size,
              "peft": (w / "peft/adapter_model.safetensors").stat().st_size,
              f"peft --pad-rank {PAD_RANK}": (w / "peft-pad/adapter_model.safetensors").stat().st_size,
              "mlx": (w / "mlx/adapters.safetensors").stat().st_size}

        # PEFT on transformers.
        from peft import PeftModel
        base = load_transformers(kind, path)
        tf_base = torch_nll(base, ids)
        check(name, "transformers base = langneuron base", float(np.abs(tf_base - np.array(ln_base["nll"])).max()) <= tol,
              f"max |ΔNLL| = {float(np.abs(tf_base - np.array(ln_base['nll'])).max()):.2e} (tolerance {tol:g})")
        for label in ["peft", "peft-pad"]:
            pm = PeftModel.from_pretrained(copy.deepcopy(base), w / label).eval()
            err = float(np.abs(torch_nll(pm, ids) - ref).max())
            check(name, f"PEFT {label} NLL = langneuron score --delta", err <= tol, f"max |ΔNLL| = {err:.2e} over {len(ref)} tokens (tolerance {tol:g})")
            del pm

        # A trained LoRA adapter (the experiment's lora arm: `train` with a lora block writes RUN/adapter):
        # PEFT loads it and gives langneuron's NLL with the adapter (merged in memory by --delta DIR).
        run([ln, "train", w / "recipe.yaml", "--set", "lora={rank: 2, alpha: 8, seed: 1}", "--set", f"output={w / 'lora-run'}"])
        adapter = w / "lora-run" / "adapter"
        ln_lora = np.array(json.loads(run([ln, "score", path, "--delta", adapter, "--text-file", w / "eval.txt", "--json"]))["nll"])
        moved = float(np.abs(ln_lora - np.array(ln_base["nll"])).max())
        check(name, "LoRA adapter is visible", moved > 10 * tol, f"max |NLL(adapter) − NLL(base)| = {moved:.2e} (must exceed 10 × {tol:g})")
        pm = PeftModel.from_pretrained(copy.deepcopy(base), adapter).eval()
        err = float(np.abs(torch_nll(pm, ids) - ln_lora).max())
        check(name, "PEFT trained LoRA adapter NLL = langneuron score --delta ADAPTER", err <= tol,
              f"max |ΔNLL| = {err:.2e} over {len(ln_lora)} tokens (tolerance {tol:g}; r 2, lora_alpha 8)")
        sz["lora adapter (rank 2)"] = (adapter / "adapter_model.safetensors").stat().st_size
        del pm, base

        # Files read back independently (covers the q/k mapping of GGUF Llama bases for PEFT/mlx too).
        expected = expected_hf_deltas(delta, info)
        st = load_file(w / "peft/adapter_model.safetensors")
        roundtrip(name, "PEFT files rebuild ΔW", {k[len("base_model.model."):-len(".lora_A.weight")]:
                  (st[k.replace("lora_A", "lora_B")], st[k]) for k in st if k.endswith(".lora_A.weight")}, expected)
        st = load_file(w / "mlx/adapters.safetensors")
        roundtrip(name, "mlx files rebuild ΔW", {k[: -len(".lora_a")]: (st[k[:-1] + "b"].T, st[k].T)
                  for k in st if k.endswith(".lora_a")}, expected)
        if have_mlx and kind == "hf":
            # mlx-lm with the adapter against mlx-lm on the merged checkpoint isolates the adapter;
            # against langneuron it also tests mlx-lm's model, which is only asked where its base agrees.
            run([ln, "merge", path, delta, "-o", w / "merged-hf"])
            with_adapter = mlx_nll(mlx_load(str(path), adapter_path=str(w / "mlx"))[0], ids)
            merged = mlx_nll(mlx_load(str(w / "merged-hf"))[0], ids)
            base_err = float(np.abs(mlx_nll(mlx_load(str(path))[0], ids) - np.array(ln_base["nll"])).max())
            err = float(np.abs(with_adapter - merged).max())
            check(name, "mlx-lm base + adapter = mlx-lm merged checkpoint", err <= tol, f"max |ΔNLL| = {err:.2e} (tolerance {tol:g})")
            if base_err <= tol:
                err = float(np.abs(with_adapter - ref).max())
                check(name, "mlx-lm base + adapter = langneuron score --delta", err <= tol, f"max |ΔNLL| = {err:.2e} (tolerance {tol:g})")
            else:
                log(f"  note: mlx-lm's own model of this checkpoint differs from langneuron/transformers already without "
                    f"the adapter (max |ΔNLL| {base_err:.2e}); compared with its merged checkpoint only")
            shutil.rmtree(w / "merged-hf")

        if kind == "gguf":
            run([ln, "export", delta, "--format", "gguf-lora", "--base", path, "-o", w / "adapter.gguf"])
            run([ln, "merge", path, delta, "-o", w / "merged.gguf"])
            sz["gguf-lora"] = (w / "adapter.gguf").stat().st_size
            sz["merged GGUF"] = (w / "merged.gguf").stat().st_size
            sz["base GGUF"] = path.stat().st_size
            from gguf import GGUFReader
            r = GGUFReader(w / "adapter.gguf")
            t = {x.name: np.array(x.data).reshape([int(d) for d in reversed(x.shape)]) for x in r.tensors}
            stored = dense_delta(delta)
            fac = {k[: -len(".lora_a")]: (t[k[:-1] + "b"], t[k]) for k in t if k.endswith(".lora_a")}
            exp = {}
            for n, (kd, idx, vals) in stored.items():
                b, a = fac.get(n, (None, None))
                if b is None:
                    continue
                wgt = np.zeros((b.shape[0], a.shape[1]), np.float32)
                if kd == "rows":
                    wgt[idx] = vals
                else:
                    wgt[:, idx] = vals.T
                exp[n] = wgt
            roundtrip(name, "GGUF LoRA files rebuild ΔW (stored layout)", fac, exp)
            check(name, "GGUF LoRA has every trained tensor", len(exp) == len(stored), f"{len(exp)} of {len(stored)}")
            check(name, "GGUF LoRA metadata", r.fields["general.type"].contents() == "adapter" and r.fields["adapter.type"].contents() == "lora"
                  and "adapter.lora.alpha" not in r.fields, "general.type adapter, adapter.type lora, no alpha")
            if args.llama_bin:
                # The merged GGUF holds every touched tensor as F32, the base the quantised one, whose
                # products llama.cpp computes with activations quantised to 8 bits: that alone moves the
                # perplexity (base vs merged-at-scale-0, printed below). The exactness check therefore puts
                # the adapter on the scale-0 merge, whose tensors are the merged ones less ΔW.
                run([ln, "merge", path, f"{delta}:0", "-o", w / "merged0.gguf"])
                p_base = llama_ppl(args.llama_bin, path, long_text)
                p_zero = llama_ppl(args.llama_bin, w / "merged0.gguf", long_text)
                p_merged = llama_ppl(args.llama_bin, w / "merged.gguf", long_text)
                p_lora0 = llama_ppl(args.llama_bin, w / "merged0.gguf", long_text, lora=w / "adapter.gguf")
                p_lora = llama_ppl(args.llama_bin, path, long_text, lora=w / "adapter.gguf")
                rel = abs(p_lora0 - p_merged) / p_merged
                check(name, "llama.cpp F32 base --lora = merged GGUF", rel <= 1e-3,
                      f"PPL {p_lora0:.4f} vs {p_merged:.4f}, relative {rel:.1e} (tolerance 1e-3)")
                quant = abs(p_zero - p_base) / p_base
                rel = abs(p_lora - p_merged) / p_merged
                check(name, "llama.cpp quantised base --lora = merged GGUF", rel <= 1e-3 + 3 * quant,
                      f"PPL {p_lora:.4f} vs {p_merged:.4f}, relative {rel:.1e} (tolerance 1e-3 + 3 × {quant:.1e}, the relative "
                      f"change of the base alone when its touched tensors are F32: {p_base:.4f} → {p_zero:.4f})")
                moved = abs(p_lora - p_base) / p_base
                check(name, "llama.cpp --lora differs from base", moved > 1e-2, f"PPL {p_lora:.4f} vs base {p_base:.4f} (relative {moved:.1e} > 1e-2)")
                for f in ["merged0.gguf"]:
                    (w / f).unlink()
        sizes[name] = sz
        log(f"  sizes (bytes): {sz}; {time.time() - t0:.0f} s")

    (work / "interop.json").write_text(json.dumps({"sizes": sizes, "checks": results}, indent=1))
    failed = [r for r in results if not r[2]]
    for r in failed:
        log(f"FAILED {r[0]}: {r[1]}: {r[3]}")
    log(f"interop: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
