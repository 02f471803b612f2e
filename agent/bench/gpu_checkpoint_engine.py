"""Torch's side of the GPU check of the checkpoint-engine protocol (driven by gpu-checkpoint-engine.sh).

produce DIR SIZE: cudaMalloc SIZE bytes with the cudart torch loaded (as the agent's CUDA backend does), fill
    them with a known pattern, write the raw 64-byte cudaIpcMemHandle to DIR/handle.bin and the GPU UUID to
    DIR/gpu.txt, then keep the memory alive until DIR/consumer.done appears; finally check that the bytes
    the consumer wrote through its view arrived here (zero-copy) and print the verdict.
consume DIR: in another process, unpickle the files the Java agent wrote, with torch itself: rebuild the
    tensor with rebuild_cuda_tensor exactly as checkpoint_engine.worker does (args[6] = own device), check
    every byte, build the bucket's views as checkpoint-engine's _extract_weights does, check them, write a
    marker through the view, release (ref-counter paths included), check the None and error messages.
"""

import ctypes
import gc
import json
import os
import pathlib
import pickle
import sys
import time

import torch

MARKER = bytes(range(0xA0, 0xB0))


def cudart():
    torch.cuda.init()
    for line in open("/proc/self/maps"):
        if "libcudart.so" in line:
            return ctypes.CDLL(line.split()[-1])
    raise SystemExit("torch did not load libcudart")


def check(rc, what):
    if rc != 0:
        raise SystemExit(f"{what} failed: cuda error {rc}")


def pattern(n, device):
    i = torch.arange(n, dtype=torch.int64, device=device)
    return ((i * 2654435761) >> 13).remainder(251).to(torch.uint8)


def as_tensor(ptr, size):
    class Cai:
        __cuda_array_interface__ = {"shape": (size,), "typestr": "|u1", "data": (ptr, False), "version": 3}

    return torch.as_tensor(Cai(), device="cuda")


def produce(directory, size):
    rt = cudart()
    ptr = ctypes.c_void_p()
    check(rt.cudaMalloc(ctypes.byref(ptr), ctypes.c_size_t(size)), "cudaMalloc")
    handle = ctypes.create_string_buffer(64)
    check(rt.cudaIpcGetMemHandle(handle, ptr), "cudaIpcGetMemHandle")
    mine = as_tensor(ptr.value, size)
    mine.copy_(pattern(size, mine.device))
    torch.cuda.synchronize()
    (directory / "handle.bin").write_bytes(handle.raw)
    uuid = "GPU-" + str(torch.cuda.get_device_properties(torch.cuda.current_device()).uuid)
    (directory / "gpu.txt").write_text(uuid)
    (directory / "device.txt").write_text(str(torch.cuda.current_device()))
    deadline = time.monotonic() + 300
    while not (directory / "consumer.done").exists():
        if time.monotonic() > deadline:
            raise SystemExit("the consumer did not finish within 300 s")
        time.sleep(0.05)
    torch.cuda.synchronize()
    seen = bytes(mine[size - 32:size - 16].cpu().tolist())
    assert seen == MARKER, f"the consumer's write did not arrive: {seen.hex()} (a copy, not the shared memory)"
    del mine
    check(rt.cudaFree(ptr), "cudaFree")
    print(f"producer: the consumer's write through the rebuilt tensor arrived here: zero-copy; {size} bytes freed")


def consume(directory):
    device = torch.cuda.current_device()
    size_expected = int((directory / "size.txt").read_text())
    print(f"consumer: torch {torch.__version__}, CUDA {torch.version.cuda}, device {device}")
    ref_counter = None

    func, args = pickle.loads((directory / "shared_buffer.pkl").read_bytes())
    assert func is torch.multiprocessing.reductions.rebuild_cuda_tensor, func
    args = list(args)
    ref_counter = args[11].decode()
    args[6] = device
    buffer = func(*args)
    assert buffer.dtype == torch.uint8 and buffer.is_cuda and buffer.numel() == size_expected, buffer
    assert torch.equal(buffer, pattern(size_expected, buffer.device)), "bytes differ from the producer's"
    print(f"consumer: rebuilt {buffer.numel()} bytes with rebuild_cuda_tensor; every byte matches")

    again = func(*args)
    assert again.data_ptr() == buffer.data_ptr(), "a second rebuild must hit torch's shared cache"
    del again

    payload = pickle.loads((directory / "bucket.pkl").read_bytes())
    expected = json.loads((directory / "bucket.json").read_text())
    assert len(payload) == len(expected)
    want = pattern(size_expected, buffer.device)
    for item, exp in zip(payload, expected):
        shape, dtype, offset = item["shape"], item["dtype"], item["offset"]
        assert isinstance(shape, torch.Size) and isinstance(dtype, torch.dtype), item
        assert item["name"] == exp["name"] and list(shape) == exp["shape"] and offset == exp["offset"], (item, exp)
        assert dtype == getattr(torch, exp["dtype"]), (dtype, exp["dtype"])
        nbytes = dtype.itemsize * shape.numel()
        assert nbytes == exp["nbytes"], (item, nbytes)
        view = buffer[offset:offset + nbytes].view(dtype=dtype).view(shape)
        assert view.data_ptr() == buffer.data_ptr() + offset, "views must alias the shared buffer"
        assert torch.equal(view.reshape(-1).view(torch.uint8), want[offset:offset + nbytes]), item["name"]
    print(f"consumer: {len(payload)} tensors of the bucket are zero-copy views with the right bytes")

    buffer[size_expected - 32:size_expected - 16] = torch.tensor(list(MARKER), dtype=torch.uint8, device=buffer.device)
    torch.cuda.synchronize()

    assert pickle.loads((directory / "release.pkl").read_bytes()) is None
    del buffer, view, want
    gc.collect()
    torch.cuda.synchronize()
    torch.cuda.ipc_collect()
    print(f"consumer: released; ref-counter {ref_counter} exists in /dev/shm: "
          f"{os.path.exists('/dev/shm' + ref_counter)} (torch ignores a missing one)")
    assert pickle.loads((directory / "post_hook.pkl").read_bytes()) is None
    error = pickle.loads((directory / "error.pkl").read_bytes())
    assert type(error) is RuntimeError and error.args == ("weightlift aborted the update",), repr(error)
    (directory / "consumer.done").write_text("ok")
    print("consumer: OK")


if __name__ == "__main__":
    command, directory = sys.argv[1], pathlib.Path(sys.argv[2])
    if command == "produce":
        produce(directory, int(sys.argv[3]))
    else:
        consume(directory)
