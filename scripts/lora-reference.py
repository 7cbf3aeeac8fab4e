#!/usr/bin/env python3
"""PyTorch float64 reference numbers for the lora arm, written to a small committed fixture.

For each tiny checkpoint in ../shared/reference/tiny/<arch>/model (loaded by transformers in
float64, eager attention) it puts PEFT LoRA adapters (rank 2, alpha 4, no dropout) on every
q/k/v/o/gate/up/down projection of every layer and records:

  gradient: A drawn exactly as langneuron draws it (LoRA.initialise: SplitMix64 per matrix,
            U(-1/sqrt(in), 1/sqrt(in)), float32), B set to small non-zero values from a formula
            (so that every A and B has a gradient); the mean NLL of reference text 0 and, for every
            adapted matrix, the L2 norm of the gradient of A and of B and their dot product with a
            fixed probe vector; the whole gradients of layer 0's q_proj (10 significant digits).
  train:    from PEFT's start (A as above, B = 0), four AdamW steps on the same text (constant lr,
            clipping over the adapters only), the loss before each step and after the last.

Tests/ReferenceTests/LoRAReferenceTests.swift reads the fixture; the Swift side rebuilds the same A
and B from the same formulas. Regenerate (any Python with torch, transformers, peft; e.g. the
environment scripts/interop.sh sets up):

    .interop/venv/bin/python scripts/lora-reference.py
"""
import json
import math
import os
import sys

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("LANGNEURON_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
OUT = os.path.join(ROOT, "Tests", "ReferenceTests", "Fixtures", "lora-tiny.json")

ARCHS = ["llama", "mistral", "qwen2", "qwen3", "gemma3"]
RANK, ALPHA, SEED = 2, 4.0, 7
# langneuron's TrainableTensor order (the adapters' order inside a layer) and the HF module names.
TENSORS = [("attn_q", "self_attn.q_proj"), ("attn_k", "self_attn.k_proj"), ("attn_v", "self_attn.v_proj"),
           ("attn_output", "self_attn.o_proj"), ("ffn_gate", "mlp.gate_proj"), ("ffn_up", "mlp.up_proj"),
           ("ffn_down", "mlp.down_proj")]
TRAIN = {"lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0, "clip_grad_norm": 1.0, "steps": 4}
M64 = (1 << 64) - 1


def lora_a(in_dim, seed):
    """LoRA.initialise: SplitMix64 from `seed`, u = top 53 bits / 2^53, a = float32((2u - 1) / sqrt(in))."""
    bound = 1.0 / math.sqrt(in_dim)
    state, out = seed, []
    for _ in range(RANK * in_dim):
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z ^= z >> 31
        u = (z >> 11) / float(1 << 53)
        out.append(float(torch.tensor((2 * u - 1) * bound, dtype=torch.float32)))
    return torch.tensor(out, dtype=torch.float64).reshape(RANK, in_dim)


def matrix_seed(layer, index):
    """LoRAAdapters: seed &+ UInt64(layer * 64 + index) &* 0x9E3779B9."""
    return (SEED + ((layer * 64 + index) * 0x9E3779B9)) & M64


def lora_b(out_dim, layer, index):
    """B[o, k] = float32(((7o + 13k + 5·layer + 3·index) mod 17 − 8) / 400)."""
    vals = [float(torch.tensor((((7 * o + 13 * k + 5 * layer + 3 * index) % 17) - 8) / 400.0, dtype=torch.float32))
            for o in range(out_dim) for k in range(RANK)]
    return torch.tensor(vals, dtype=torch.float64).reshape(out_dim, RANK)


def probe(n):
    """p[i] = ((31 i + 7) mod 23 − 11) / 11."""
    return torch.tensor([(((31 * i + 7) % 23) - 11) / 11.0 for i in range(n)], dtype=torch.float64)


def short(x):
    return float(f"{x:.10g}")


def build(arch):
    model = AutoModelForCausalLM.from_pretrained(os.path.join(SHARED, "reference", "tiny", arch, "model"),
                                                 dtype=torch.float64, attn_implementation="eager")
    config = LoraConfig(r=RANK, lora_alpha=ALPHA, lora_dropout=0.0, bias="none",
                        target_modules=[m.split(".")[-1] for _, m in TENSORS])
    model = get_peft_model(model, config).to(torch.float64)
    model.eval()  # no dropout anywhere; gradients still flow
    return model


def modules(model, layers):
    """(layer, index, tensor name, PEFT LoRA layer) for every adapted matrix."""
    base = model.base_model.model.model
    out = []
    for l in range(layers):
        block = base.layers[l]
        for i, (name, path) in enumerate(TENSORS):
            mod = block
            for part in path.split("."):
                mod = getattr(mod, part)
            out.append((l, i, name, mod))
    return out


def set_factors(model, layers, b_zero):
    with torch.no_grad():
        for l, i, _, mod in modules(model, layers):
            a, b = mod.lora_A["default"].weight, mod.lora_B["default"].weight
            a.copy_(lora_a(a.shape[1], matrix_seed(l, i)))
            b.copy_(torch.zeros_like(b) if b_zero else lora_b(b.shape[0], l, i))


def mean_nll(model, ids):
    x = torch.tensor([ids[:-1]])
    logits = model(input_ids=x).logits[0]
    return torch.nn.functional.cross_entropy(logits, torch.tensor(ids[1:]))


def reference(arch):
    manifest = json.load(open(os.path.join(SHARED, "reference", "tiny", arch, "manifest.json")))
    ids = manifest["forward"][0]["ids"]
    layers = manifest["layers"]
    model = build(arch)
    params = [p for n, p in model.named_parameters() if "lora_" in n]

    set_factors(model, layers, b_zero=False)
    model.zero_grad()
    loss = mean_nll(model, ids)
    loss.backward()
    grads, full = [], {}
    for l, i, name, mod in modules(model, layers):
        ga, gb = mod.lora_A["default"].weight.grad, mod.lora_B["default"].weight.grad
        entry = {"layer": l, "tensor": name}
        for key, g in (("a", ga), ("b", gb)):
            flat = g.reshape(-1)
            entry[key + "_norm"] = float(flat.norm())
            entry[key + "_probe"] = float(flat @ probe(flat.numel()))
        grads.append(entry)
        if (l, name) == (0, "attn_q"):
            full[f"{l}.{name}"] = {"a": [short(x) for x in ga.reshape(-1).tolist()], "b": [short(x) for x in gb.reshape(-1).tolist()]}

    set_factors(model, layers, b_zero=True)
    opt = torch.optim.AdamW(params, lr=TRAIN["lr"], betas=tuple(TRAIN["betas"]), eps=TRAIN["eps"],
                            weight_decay=TRAIN["weight_decay"])
    losses = []
    for step in range(TRAIN["steps"] + 1):
        opt.zero_grad()
        l_ = mean_nll(model, ids)
        losses.append(float(l_.detach()))
        if step == TRAIN["steps"]:
            break
        l_.backward()
        torch.nn.utils.clip_grad_norm_(params, TRAIN["clip_grad_norm"])
        opt.step()
    return {"ids": ids, "layers": layers, "loss": float(loss), "gradients": grads, "full_gradients": full, "train_losses": losses}


def main():
    torch.manual_seed(0)
    out = {
        "note": "scripts/lora-reference.py: PyTorch float64 + PEFT; A from langneuron's SplitMix64 initialisation, "
                "B from the formula in the script; gradients of the mean NLL of reference text 0",
        "rank": RANK, "alpha": ALPHA, "seed": SEED, "tensors": [t for t, _ in TENSORS], "train": TRAIN,
        "versions": {"torch": torch.__version__.split("+")[0], "peft": __import__("peft").__version__,
                     "transformers": __import__("transformers").__version__},
        "archs": {},
    }
    for arch in ARCHS:
        out["archs"][arch] = reference(arch)
        print(arch, "loss", out["archs"][arch]["loss"], "train", out["archs"][arch]["train_losses"], file=sys.stderr)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    print("wrote", OUT, os.path.getsize(OUT), "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
