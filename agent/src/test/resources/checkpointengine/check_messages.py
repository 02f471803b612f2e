"""Unpickles every message file named in <dir>/expected.json and checks it against the expectation.

Run with the stub torch first on PYTHONPATH (the structure, down to exact types), or with --real-torch
against the installed torch (the globals resolve to torch's own objects). Exits non-zero on the first
mismatch, with the reason.
"""

import inspect
import io
import json
import pathlib
import pickle
import pickletools
import sys

import torch
from torch.multiprocessing.reductions import rebuild_cuda_tensor


def check_shared_buffer(msg, want):
    assert type(msg) is tuple and len(msg) == 2, msg
    func, args = msg
    assert func is rebuild_cuda_tensor, func
    assert type(args) is tuple and len(args) == 15, args
    inspect.signature(rebuild_cuda_tensor).bind(*args)
    assert args[0] is torch.Tensor
    assert type(args[1]) is torch.Size and tuple(args[1]) == (want["size"],), args[1]
    assert args[2] == (1,) and type(args[2]) is tuple and args[3] == 0, args[2:4]
    assert args[4] is torch.storage.TypedStorage, args[4]
    assert args[5] is torch.uint8, args[5]
    assert args[6] == want["device"], args[6]
    assert args[7] == bytes.fromhex(want["ipcHandle"]), args[7]
    assert args[8] == want["size"] and args[9] == 0, args[8:10]
    assert args[10] is False and args[14] is False, (args[10], args[14])
    assert args[11] == want["refCounter"].encode() and args[12] == 0, args[11:13]
    assert args[13] == bytes(64), args[13]
    if getattr(torch, "STUB", False):
        worker_args = list(args)
        worker_args[6] = 0
        buffer = rebuild_cuda_tensor(*worker_args)
        assert buffer.size == want["size"]


def check_bucket(msg, want):
    assert type(msg) is list and len(msg) == len(want["tensors"]), msg
    for got, expected in zip(msg, want["tensors"]):
        assert type(got) is dict and list(got) == ["name", "dtype", "shape", "offset"], got
        assert got["name"] == expected["name"], got
        assert got["dtype"] is getattr(torch, expected["dtype"]), (got["dtype"], expected["dtype"])
        assert type(got["shape"]) is torch.Size and list(got["shape"]) == expected["shape"], got["shape"]
        assert all(type(d) is int for d in got["shape"]), got["shape"]
        assert type(got["offset"]) is int and got["offset"] == expected["offset"], got["offset"]


def decode(spec):
    """The Python value a JSON spec stands for: {"bytes": hex}, {"tuple": [...]}, {"dict": [[k, v], ...]}."""
    if isinstance(spec, list):
        return [decode(v) for v in spec]
    if isinstance(spec, dict):
        (kind, value), = spec.items()
        if kind == "bytes":
            return bytes.fromhex(value)
        if kind == "tuple":
            return tuple(decode(v) for v in value)
        if kind == "dict":
            return {k: decode(v) for k, v in value}
        raise AssertionError("unknown spec " + kind)
    return spec


def same(got, want):
    """Equal, and of exactly the same types all the way down (True is not 1, a tuple is not a list)."""
    assert type(got) is type(want), (got, want)
    if isinstance(want, (list, tuple)):
        assert len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            same(g, w)
    elif isinstance(want, dict):
        assert list(got) == list(want), (got, want)
        for k in want:
            same(got[k], want[k])
    else:
        assert got == want, (got, want)


def check_error(msg, want):
    assert type(msg) is RuntimeError and msg.args == (want["message"],), repr(msg)


def main():
    directory = pathlib.Path(sys.argv[1])
    real = "--real-torch" in sys.argv
    assert getattr(torch, "STUB", False) != real, f"wrong torch imported: {torch.__file__}"
    expected = json.loads((directory / "expected.json").read_text())
    for want in expected:
        data = (directory / want["file"]).read_bytes()
        pickletools.dis(data, out=io.StringIO())
        msg = pickle.loads(data)
        kind = want["kind"]
        try:
            if kind == "shared_buffer":
                check_shared_buffer(msg, want)
            elif kind == "bucket":
                check_bucket(msg, want)
            elif kind == "none":
                assert msg is None, msg
            elif kind == "value":
                same(msg, decode(want["value"]))
            elif kind == "error":
                check_error(msg, want)
            else:
                raise AssertionError("unknown kind " + kind)
        except AssertionError as e:
            raise AssertionError(f"{want['file']} ({kind}): {e}") from e
    print(f"checked {len(expected)} messages with {'real' if real else 'stub'} torch from {torch.__file__}")


if __name__ == "__main__":
    main()
