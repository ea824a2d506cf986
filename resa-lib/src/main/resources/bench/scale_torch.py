"""PyTorch eager reference for `./resa bench scale`: loads the same sharded bf16 HF checkpoint (widened to float32,
as the Java side does), runs the same token ids through a Qwen2 decoder (untied head, q/k/v bias, RMSNorm,
half-rotation RoPE, grouped-query attention, SwiGLU), then greedy KV-cache decoding.

Usage: python3 scale_torch.py '<json>'  with keys dir, tokens_file, forward_tokens, prompt_tokens, gen_tokens, threads.
Prints one JSON line with the timings, peak RSS and a few logits for a cross-check.
"""
import json
import mmap
import os
import resource
import struct
import sys
import time

import torch
import torch.nn.functional as F

from gqa import attend


def load(folder):
    index = json.load(open(os.path.join(folder, "model.safetensors.index.json")))
    files = sorted(set(index["weight_map"].values()))
    w = {}
    for name in files:
        with open(os.path.join(folder, name), "rb") as f:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            n = struct.unpack("<Q", mm[:8])[0]
            header = json.loads(mm[8:8 + n])
            for key, e in header.items():
                if key == "__metadata__":
                    continue
                begin, end = e["data_offsets"]
                dtype = {"BF16": torch.bfloat16, "F32": torch.float32, "F16": torch.float16}[e["dtype"]]
                raw = bytearray(mm[8 + n + begin:8 + n + end])
                w[key] = torch.frombuffer(raw, dtype=dtype).reshape(e["shape"]).float()
                del raw
            mm.close()
    return w


class Qwen2:
    def __init__(self, w, cfg):
        self.w, self.c = w, cfg
        self.h, self.k = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.e = cfg["hidden_size"] // self.h
        self.theta = cfg.get("rope_theta", 10000.0)
        self.eps = cfg.get("rms_norm_eps", 1e-6)

    def rms(self, x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * g

    def rope(self, x, pos):
        inv = self.theta ** (-torch.arange(0, self.e, 2).float() / self.e)
        ang = pos.float()[:, None] * inv  # [T, E/2]
        cos, sin = ang.cos(), ang.sin()
        x1, x2 = x[..., : self.e // 2], x[..., self.e // 2:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)

    def forward(self, tokens, cache=None, past=0, last_only=False):
        w, b, t = self.w, tokens.shape[0], tokens.shape[1]
        h_, k_, e = self.h, self.k, self.e
        x = F.embedding(tokens, w["model.embed_tokens.weight"])
        s = past + t
        pos = torch.arange(past, s)
        mask = torch.full((t, s), float("-inf")).triu(past + 1) if t > 1 else None
        for li in range(self.c["num_hidden_layers"]):
            p = "model.layers.%d." % li
            a = self.rms(x, w[p + "input_layernorm.weight"])
            q = F.linear(a, w[p + "self_attn.q_proj.weight"], w[p + "self_attn.q_proj.bias"]).view(b, t, h_, e).transpose(1, 2)
            k = F.linear(a, w[p + "self_attn.k_proj.weight"], w[p + "self_attn.k_proj.bias"]).view(b, t, k_, e).transpose(1, 2)
            v = F.linear(a, w[p + "self_attn.v_proj.weight"], w[p + "self_attn.v_proj.bias"]).view(b, t, k_, e).transpose(1, 2)
            q, k = self.rope(q, pos), self.rope(k, pos)
            out = attend(q, k, v, None if cache is None else cache[li], past, mask)
            x = x + F.linear(out, w[p + "self_attn.o_proj.weight"])
            m = self.rms(x, w[p + "post_attention_layernorm.weight"])
            x = x + F.linear(F.silu(F.linear(m, w[p + "mlp.gate_proj.weight"])) * F.linear(m, w[p + "mlp.up_proj.weight"]),
                             w[p + "mlp.down_proj.weight"])
        if last_only:
            x = x[:, -1:]
        return F.linear(self.rms(x, w["model.norm.weight"]), w["lm_head.weight"])


def main():
    c = json.loads(sys.argv[1])
    torch.set_num_threads(c.get("threads", 2))
    cfg = json.load(open(os.path.join(c["dir"], "config.json")))
    ids = [int(s) for s in open(c["tokens_file"]).read().split()]
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    start = time.perf_counter()
    model = Qwen2(load(c["dir"]), cfg)
    out["load_s"] = time.perf_counter() - start
    with torch.no_grad():
        tokens = torch.tensor([ids[: c["forward_tokens"]]])
        start = time.perf_counter()
        logits = model.forward(tokens)
        out["forward_s"] = time.perf_counter() - start
        out["forward_last_logits"] = logits[0, -1, :8].tolist()
        out["forward_last_argmax"] = int(logits[0, -1].argmax())
        del logits
        cap = c["prompt_tokens"] + c["gen_tokens"]
        cache = [(torch.zeros(1, model.k, cap, model.e), torch.zeros(1, model.k, cap, model.e))
                 for _ in range(cfg["num_hidden_layers"])]
        prompt = torch.tensor([ids[: c["prompt_tokens"]]])
        start = time.perf_counter()
        nxt = model.forward(prompt, cache, 0, last_only=True)[:, -1].argmax(-1, keepdim=True)
        out["prefill_s"] = time.perf_counter() - start
        generated = [int(nxt)]
        start = time.perf_counter()
        for pos in range(c["prompt_tokens"], cap - 1):
            nxt = model.forward(nxt, cache, pos, last_only=True)[:, -1].argmax(-1, keepdim=True)
            generated.append(int(nxt))
        out["decode_s"] = time.perf_counter() - start
        out["decode_steps"] = c["gen_tokens"] - 1
        out["generated"] = generated
    out["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(out))


if __name__ == "__main__":
    main()
