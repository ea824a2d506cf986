"""Independent check of a PEFT LoRA adapter written by Resa for Java.

Reads adapter_config.json and adapter_model.safetensors (parsed by hand in safetensors_f32.py), computes
y = x W^T + (lora_alpha / r) * x A^T B^T for one module with torch, and prints the max abs difference to the y that
Java computed.
usage: peft_lora_check.py ADAPTER_DIR CHECK_SAFETENSORS MODULE
"""
import json
import sys

try:
    import torch
except ImportError:
    print("no torch")
    sys.exit(3)

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from safetensors_f32 import read_f32  # noqa: E402 (after the torch check, which it needs)


def read_safetensors(path):
    return {name: t.double() for name, t in read_f32(path).items()}


adapter_dir, check_file, module = sys.argv[1:4]
cfg = json.load(open(adapter_dir + "/adapter_config.json"))
assert cfg["peft_type"] == "LORA" and cfg["bias"] == "none", cfg
weights = read_safetensors(adapter_dir + "/adapter_model.safetensors")
a = weights["base_model.model." + module + ".lora_A.weight"]  # [r, in]
b = weights["base_model.model." + module + ".lora_B.weight"]  # [out, r]
assert a.shape[0] == cfg["r"] and b.shape[1] == cfg["r"]
check = read_safetensors(check_file)
x, w, y_java = check["x"], check["w"], check["y"]
lora = torch.nn.Linear(a.shape[1], a.shape[0], bias=False).double()
lora_b = torch.nn.Linear(b.shape[1], b.shape[0], bias=False).double()
with torch.no_grad():
    lora.weight.copy_(a)
    lora_b.weight.copy_(b)
    y = torch.nn.functional.linear(x, w) + lora_b(lora(x)) * (cfg["lora_alpha"] / cfg["r"])
print("max abs diff", float((y - y_java).abs().max()))
