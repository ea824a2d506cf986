"""Independent reference: sparsify's TopK SparseCoder forward on a folder in sparsify's layout.

usage: sparsify_forward.py <sae_dir> <x.f32 raw [N, d]> <out_prefix>
Writes <out_prefix>.acts / .idx / .recon as raw little-endian arrays and prints the FVU.
Reads safetensors by hand (../safetensors_f32.py).
"""
import json, os, sys
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from safetensors_f32 import read_f32  # noqa: E402


sae_dir, x_path, out = sys.argv[1:4]
cfg = json.load(open(f"{sae_dir}/cfg.json"))
w = read_f32(f"{sae_dir}/sae.safetensors")
d, k = cfg["d_in"], cfg["k"]
x = torch.from_numpy(np.fromfile(x_path, dtype="<f4")).reshape(-1, d)

# sparsify SparseCoder.forward (no transcode, no skip, topk activation)
sae_in = x - w["b_dec"]
pre = torch.relu(torch.nn.functional.linear(sae_in, w["encoder.weight"], w["encoder.bias"]))
acts, idx = pre.topk(k, sorted=False)
recon = torch.nn.functional.embedding_bag(idx, w["W_dec"], per_sample_weights=acts, mode="sum") + w["b_dec"]
e = x - recon
fvu = e.pow(2).sum() / (x - x.mean(0)).pow(2).sum()

order = acts.argsort(dim=-1, descending=True)  # canonical order for comparison
acts.gather(-1, order).numpy().astype("<f4").tofile(out + ".acts")
idx.gather(-1, order).numpy().astype("<i8").tofile(out + ".idx")
recon.numpy().astype("<f4").tofile(out + ".recon")
print(f"{fvu.item():.9g}")
