"""The test scripts' safetensors reader, written by hand: this Python has torch but not the safetensors package."""
import json
import struct

import torch


def read_f32(path):
    """Every tensor of an all-F32 safetensors file, as float32 torch tensors keyed by name."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", (name, e["dtype"])
        begin, end = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(e["shape"])
    return out
