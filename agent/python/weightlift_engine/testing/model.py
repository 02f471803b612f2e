"""A tiny language-model-shaped torch module whose ``load_weights`` copies into its parameters (like vLLM's)."""

import hashlib

import torch
from torch import nn

SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
                      torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}


class TinyModel(nn.Module):

    def __init__(self, vocab=256, hidden=64, layers=2, dtype=torch.float32):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList()
        for _ in range(layers):
            block = nn.Module()
            block.proj = nn.Linear(hidden, hidden)
            block.norm = nn.LayerNorm(hidden)
            self.layers.append(block)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)
        self.to(dtype)
        with torch.no_grad():
            for p in self.parameters():
                p.zero_()
        # Built once: load_weights runs once per bucket, and walking the module tree each time (what vLLM's
        # models do, dict(self.named_parameters()) per call) cost 10-11 ms of a 38 ms update of 0.5 GiB in
        # 30 buckets here.
        self._parameters_by_name = dict(self.named_parameters())

    def load_weights(self, weights):
        params = self._parameters_by_name
        loaded = set()
        with torch.no_grad():
            for name, tensor in weights:
                if name not in params:
                    raise KeyError(f"checkpoint tensor '{name}' is not a parameter of TinyModel")
                param = params[name]
                if tuple(param.shape) != tuple(tensor.shape) or param.dtype != tensor.dtype:
                    raise ValueError(f"tensor '{name}' is {tensor.dtype} {tuple(tensor.shape)}, parameter is "
                                     f"{param.dtype} {tuple(param.shape)}")
                param.copy_(tensor)
                loaded.add(name)
        return loaded

    def describe(self):
        return [{"name": n, "dtype": SAFETENSORS_DTYPES[p.dtype], "shape": list(p.shape)}
                for n, p in self.named_parameters()]

    def checksums(self):
        """sha256 of every parameter's raw bytes (little-endian, C order), by name."""
        out = {}
        for name, p in self.named_parameters():
            flat = p.detach().contiguous().view(-1).view(torch.uint8)
            out[name] = hashlib.sha256(flat.numpy().tobytes()).hexdigest()
        return out
