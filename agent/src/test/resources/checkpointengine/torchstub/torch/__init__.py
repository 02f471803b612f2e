"""Test stand-in for torch: exactly the names checkpoint-engine's messages refer to, nothing else.

It shadows the real torch when its parent directory comes first on PYTHONPATH; STUB tells the two apart.
"""

STUB = True


class dtype:
    """torch.dtype: pickled as the global torch.<name>, like the real one (its __reduce__ returns the name)."""

    def __init__(self, name, itemsize):
        self.name = name
        self.itemsize = itemsize

    def __reduce__(self):
        return self.name

    def __repr__(self):
        return "torch." + self.name


_DTYPES = {
    "bool": 1, "uint8": 1, "int8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4, "int64": 8,
    "uint64": 8, "float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "complex64": 8,
    "float8_e4m3fn": 1, "float8_e5m2": 1, "float8_e8m0fnu": 1,
}
for _name, _size in _DTYPES.items():
    globals()[_name] = dtype(_name, _size)


class Size(tuple):
    """torch.Size: a tuple subclass that pickles as REDUCE(torch.Size, (tuple(self),))."""

    def __reduce__(self):
        return (Size, (tuple(self),))

    def numel(self):
        n = 1
        for d in self:
            n *= d
        return n


class Tensor:
    pass


from torch import multiprocessing, storage  # noqa: E402,F401
