"""PyTorch eager reference for `./resa bench lm`: the same Qwen2-style decoder as dev.resa.model.DecoderLM
(tied embeddings, q/k/v bias, RMSNorm, half-rotation RoPE, grouped-query attention, SwiGLU), timed the same way.

Usage: python3 lm_bench.py '<json config>'  ->  prints one JSON line with the measurements.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

from gqa import attend


class Decoder(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d, h, k, e, i = c["hidden"], c["heads"], c["kv_heads"], c["hidden"] // c["heads"], c["intermediate"]
        self.e = e
        self.embed = torch.nn.Parameter(torch.randn(c["vocab"], d) * 0.02)
        self.layers = torch.nn.ModuleList()
        for _ in range(c["layers"]):
            layer = torch.nn.Module()
            layer.ln1 = torch.nn.Parameter(torch.ones(d))
            layer.q = torch.nn.Linear(d, h * e)
            layer.k = torch.nn.Linear(d, k * e)
            layer.v = torch.nn.Linear(d, k * e)
            layer.o = torch.nn.Linear(h * e, d, bias=False)
            layer.ln2 = torch.nn.Parameter(torch.ones(d))
            layer.gate = torch.nn.Linear(d, i, bias=False)
            layer.up = torch.nn.Linear(d, i, bias=False)
            layer.down = torch.nn.Linear(i, d, bias=False)
            self.layers.append(layer)
        self.norm = torch.nn.Parameter(torch.ones(d))
        pos = torch.arange(c["max_positions"]).float()[:, None]
        inv = 10000.0 ** (-torch.arange(0, e, 2).float() / e)
        self.register_buffer("cos", torch.cos(pos * inv))  # [P, E/2]
        self.register_buffer("sin", torch.sin(pos * inv))

    def rms(self, x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * g

    def rope(self, x, past):
        t = x.shape[2]
        cos, sin = self.cos[past:past + t], self.sin[past:past + t]
        x1, x2 = x[..., : self.e // 2], x[..., self.e // 2:]
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)

    def forward(self, tokens, cache=None, past=0):
        c = self.c
        b, t = tokens.shape
        h_, k_, e = c["heads"], c["kv_heads"], self.e
        x = F.embedding(tokens, self.embed)
        s = past + t
        mask = None
        if t > 1:
            mask = torch.full((t, s), float("-inf")).triu(past + 1)
        for li, L in enumerate(self.layers):
            a = self.rms(x, L.ln1)
            q = L.q(a).view(b, t, h_, e).transpose(1, 2)
            k = L.k(a).view(b, t, k_, e).transpose(1, 2)
            v = L.v(a).view(b, t, k_, e).transpose(1, 2)
            q, k = self.rope(q, past), self.rope(k, past)
            out = attend(q, k, v, None if cache is None else cache[li], past, mask)
            x = x + L.o(out)
            m = self.rms(x, L.ln2)
            x = x + L.down(F.silu(L.gate(m)) * L.up(m))
        return self.rms(x, self.norm) @ self.embed.t()


def main():
    c = json.loads(sys.argv[1])
    torch.set_num_threads(c.get("threads", 2))
    torch.manual_seed(0)
    model = Decoder(c)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    b, t = c["batch"], c["seq_len"]
    tokens = torch.randint(0, c["vocab"], (b, t + 1))

    def train_step():
        logits = model(tokens[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, c["vocab"]), tokens[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=False)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    result = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if c.get("train", True):
        for _ in range(c["warmup_steps"]):
            train_step()
        times, cpu = [], []
        for _ in range(c["train_steps"]):
            start, start_cpu = time.perf_counter(), time.process_time()
            train_step()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        step_s = sorted(times)[len(times) // 2]
        result.update(train_step_s=step_s, train_tokens_per_s=b * t / step_s,
                      train_step_cpu_s=sorted(cpu)[len(cpu) // 2])
    if c.get("decode", True):
        for rows in c.get("gen_batches", [1]):
            decode(model, c, rows, 64, 0)  # warm-up, untimed
            per_token, cpu_at = decode(model, c, rows, c["gen_to"], 1)
            result["gen_%d" % rows] = {"token_s": per_token, "cpu_at_s": cpu_at}
    print(json.dumps(result))


def decode(model, c, rows, to, seed):
    """Greedy decoding with a preallocated KV cache: prefill `gen_prompt` tokens per row, then one token per row per
    step until context `to`; returns wall seconds per step and the process CPU clock before each step and after the
    last. Each step reads the chosen tokens back to Python, as a generator must."""
    e = c["hidden"] // c["heads"]
    cap = c["gen_to"]
    per_token, cpu_at = [], []
    torch.manual_seed(seed)
    with torch.no_grad():
        cache = [(torch.zeros(rows, c["kv_heads"], cap, e), torch.zeros(rows, c["kv_heads"], cap, e)) for _ in model.layers]
        prompt = torch.randint(0, c["vocab"], (rows, c["gen_prompt"]))
        logits = model(prompt, cache, 0)
        nxt = logits[:, -1].argmax(-1, keepdim=True)
        nxt.tolist()
        for pos in range(c["gen_prompt"], to):
            start = time.perf_counter()
            cpu_at.append(time.process_time())
            logits = model(nxt, cache, pos)
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            nxt.tolist()
            per_token.append(time.perf_counter() - start)
        cpu_at.append(time.process_time())
    return per_token, cpu_at


if __name__ == "__main__":
    main()
