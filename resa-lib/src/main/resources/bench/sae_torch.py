"""PyTorch eager baseline for `resa bench sae`: sparsify's TopK SAE training step on CPU, fp32.

Encoder as sparsify's FusedEncoder (dense GEMM forward without autograd, top-k, backward by index_add on the k
selected rows), decoder by embedding_bag, FVU loss, decoder-gradient projection, SignSGD in Schedule-Free.
usage: sae_torch.py d n k tokens warmup steps threads ; prints one JSON line.
"""
import json, sys, time
import torch
import torch.nn.functional as F

d, n, k, N, warmup, steps, threads = map(int, sys.argv[1:8])
torch.set_num_threads(threads)
torch.manual_seed(0)


class FusedEncoder(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, k):
        pre = F.relu(F.linear(x, weight, bias))
        values, indices = pre.topk(k, sorted=False)
        ctx.save_for_backward(x, weight, indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, _):
        x, weight, indices = ctx.saved_tensors
        flat = indices.flatten()
        grad_x = F.embedding_bag(indices, weight, mode="sum", per_sample_weights=grad_values.type_as(weight))
        grad_w = torch.zeros_like(weight).index_add_(0, flat, (grad_values.reshape(-1, 1) * x.repeat_interleave(indices.shape[1], 0)))
        grad_b = torch.zeros(weight.shape[0], dtype=weight.dtype).index_add_(0, flat, grad_values.flatten())
        return grad_x, grad_w, grad_b, None


w_enc = (torch.rand(n, d) * 2 - 1) / d ** 0.5
b_enc = torch.zeros(n)
w_dec = w_enc.clone()
w_dec.div_(w_dec.norm(dim=1, keepdim=True) + torch.finfo(torch.float32).eps)
x = torch.randn(N, d)
b_dec = x.mean(0)
params = [p.requires_grad_() for p in (w_enc, b_enc, w_dec, b_dec)]
z = [p.detach().clone() for p in params]
lr, m = 5e-3 / (n / 2 ** 14) ** 0.5, 0.95


def step(t):
    with torch.no_grad():
        w_dec.div_(w_dec.norm(dim=1, keepdim=True) + torch.finfo(torch.float32).eps)
    vals, idx = FusedEncoder.apply(x - b_dec, w_enc, b_enc, k)
    recon = F.embedding_bag(idx, w_dec, per_sample_weights=vals, mode="sum") + b_dec
    fvu = (x - recon).pow(2).sum() / (x - x.mean(0)).pow(2).sum()
    fvu.backward()
    with torch.no_grad():
        g = w_dec.grad
        g -= (g * w_dec).sum(1, keepdim=True) * w_dec
        c = 1.0 / (t + 1)
        for p, zp in zip(params, z):
            p.lerp_(zp, 1 - 1 / m)
            zp.add_(p.grad.sign(), alpha=-lr)
            p.lerp_(zp, c)
            p.lerp_(zp, 1 - m)
            p.grad = None
    return fvu.item()


for t in range(warmup):
    step(t)
t0 = time.perf_counter()
for t in range(warmup, warmup + steps):
    fvu = step(t)
dt = time.perf_counter() - t0

a = torch.randn(N, d)
for _ in range(2):
    F.linear(a, w_enc.detach())
reps = 3
t1 = time.perf_counter()
for _ in range(reps):
    F.linear(a, w_enc.detach())
gemm = 2.0 * N * d * n * reps / (time.perf_counter() - t1)
print(json.dumps({"tokens_per_s": N * steps / dt, "gemm_flops": gemm, "fvu": fvu, "torch": torch.__version__}))
