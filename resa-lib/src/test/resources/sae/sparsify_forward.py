"""Independent reference: sparsify's TopK SparseCoder forward on a folder in sparsify's layout.

usage: sparsify_forward.py <sae_dir> <x.f32 raw [N, d]> <out_prefix>
Writes <out_prefix>.acts / .idx / .recon as raw little-endian arrays and prints the FVU.
Reads safetensors by hand (the safetensors package is not installed here).
"""
import json, struct, sys
import numpy as np
import torch


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", e["dtype"]
        a, b = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy()).reshape(e["shape"])
    return out


sae_dir, x_path, out = sys.argv[1:4]
cfg = json.load(open(f"{sae_dir}/cfg.json"))
w = load_safetensors(f"{sae_dir}/sae.safetensors")
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
