"""Grouped-query attention with an optional preallocated KV cache, shared by the PyTorch references
lm_bench.py and scale_torch.py (TorchReference writes it next to the script it runs)."""
import math


def attend(q, k, v, cache, past, mask):
    """q [B, H, T, E] attends over k, v [B, K, T, E] and, with `cache` (this layer's (keys, values), each
    [B, K, capacity, E]), over the `past` positions before them, which k and v are first written after.
    `mask` is None or added to the scores [.., T, past + T]. Returns the heads side by side, [B, T, H * E]."""
    b, h_, t, e = q.shape
    k_ = k.shape[1]
    s = past + t
    if cache is not None:
        kc, vc = cache
        kc[:, :, past:s] = k
        vc[:, :, past:s] = v
        k, v = kc[:, :, :s], vc[:, :, :s]
    qg = q.reshape(b, k_, h_ // k_, t, e)
    scores = qg @ k.unsqueeze(2).transpose(-1, -2) / math.sqrt(e)  # [B, K, G, T, S]
    if mask is not None:
        scores = scores + mask
    return (scores.softmax(-1) @ v.unsqueeze(2)).reshape(b, h_, t, e).transpose(1, 2).reshape(b, t, h_ * e)
