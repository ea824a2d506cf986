"""Independent PyTorch reference for the Java decoder (tests only; never part of the product).

Usage: python3 torch_decoder.py TOKENS_JSON MODEL_DIR OUT_JSON [MODEL_DIR OUT_JSON ...]
Reads a HF folder written by HfCheckpoint.save with a hand-written safetensors parser (the `safetensors`
package is not installed), runs a Qwen2/Llama forward in float64 with HF's rotate_half RoPE and writes
{"logits": [[[...]]], "tensors": {name: first 8 values}}.
"""
import json
import os
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    data = blob[8 + n :]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).to(torch.float64)
    return out


def load(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    files = ["model.safetensors"]
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    w = {}
    for name in files:
        w.update(read_safetensors(os.path.join(folder, name)))
    with open(os.path.join(folder, "config.json")) as f:
        return json.load(f), w


def rms_norm(x, g, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def forward(cfg, w, tokens):
    d, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or d // nh
    eps = cfg["rms_norm_eps"]
    b, t = tokens.shape
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.outer(torch.arange(t, dtype=torch.float64), inv)
    cos, sin = torch.cat([ang, ang], -1).cos(), torch.cat([ang, ang], -1).sin()  # [T, hd]
    causal = torch.full((t, t), float("-inf"), dtype=torch.float64).triu(1)
    h = w["model.embed_tokens.weight"][tokens]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)

        def proj(name, heads):
            y = x @ w[p + f"self_attn.{name}.weight"].T
            if p + f"self_attn.{name}.bias" in w:
                y = y + w[p + f"self_attn.{name}.bias"]
            return y.view(b, t, heads, hd).transpose(1, 2)

        q, k, v = proj("q_proj", nh), proj("k_proj", nkv), proj("v_proj", nkv)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / hd**0.5 + causal, dim=-1) @ v
        h = h + att.transpose(1, 2).reshape(b, t, nh * hd) @ w[p + "self_attn.o_proj.weight"].T
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        gate = x @ w[p + "mlp.gate_proj.weight"].T
        up = x @ w[p + "mlp.up_proj.weight"].T
        h = h + (torch.nn.functional.silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    return rms_norm(h, w["model.norm.weight"], eps) @ head.T


def main():
    with open(sys.argv[1]) as f:
        tokens = torch.tensor(json.load(f), dtype=torch.long)
    for folder, out in zip(sys.argv[2::2], sys.argv[3::2]):
        cfg, w = load(folder)
        logits = forward(cfg, w, tokens)
        firsts = {name: t.flatten()[:8].tolist() for name, t in w.items()}
        with open(out, "w") as f:
            json.dump({"logits": logits.tolist(), "tensors": firsts}, f)


if __name__ == "__main__":
    main()
