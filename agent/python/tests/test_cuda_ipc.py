"""The CUDA IPC path of open_buffer against a second process that exports a raw cudaIpcMemHandle.

Skipped without a CUDA GPU; run on the GPU machine with ``python -m unittest tests.test_cuda_ipc`` from agent/python.
"""

import subprocess
import sys
import textwrap
import unittest

import torch

from weightlift_engine.buffers import open_buffer

PRODUCER = textwrap.dedent("""
    import ctypes, sys, torch
    from weightlift_engine.buffers import _CudaArray, _cudart, current_gpu_uuid
    size = int(sys.argv[1])
    torch.cuda.init()
    lib = _cudart()
    pointer = ctypes.c_void_p()
    # Its own cudaMalloc, so the handle's base address is the buffer's (torch's caching allocator would
    # hand out an offset inside a larger segment).
    assert lib.cudaMalloc(ctypes.byref(pointer), ctypes.c_size_t(size)) == 0
    buf = torch.as_tensor(_CudaArray(pointer.value, size), device="cuda")
    buf.copy_(torch.arange(size, dtype=torch.int64).remainder(251).to(torch.uint8))
    torch.cuda.synchronize()
    handle = ctypes.create_string_buffer(64)
    status = lib.cudaIpcGetMemHandle(handle, pointer)
    assert status == 0, f"cudaIpcGetMemHandle failed: {status}"
    print(current_gpu_uuid(), handle.raw.hex(), flush=True)
    sys.stdin.readline()
    torch.cuda.synchronize()
    print("first-byte", int(buf[0].item()), flush=True)
""")


@unittest.skipUnless(torch.cuda.is_available(), "needs a CUDA GPU")
class CudaIpcTest(unittest.TestCase):

    def test_a_raw_handle_opens_zero_copy_and_closes(self):
        size = 1 << 20
        producer = subprocess.Popen([sys.executable, "-c", PRODUCER, str(size)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
        try:
            uuid, handle_hex = producer.stdout.readline().split()
            buffer = open_buffer({"kind": "cuda-ipc", "device_uuid": uuid, "size": size}, bytes.fromhex(handle_hex))
            expected = torch.arange(size, dtype=torch.int64).remainder(251).to(torch.uint8)
            self.assertTrue(torch.equal(buffer.tensor.cpu(), expected))
            view = buffer.view({"name": "w", "dtype": "F32", "shape": [4], "offset": 256, "nbytes": 16})
            self.assertEqual(view.device, buffer.tensor.device)
            buffer.tensor[0] = 7
            del view
            buffer.close()
            producer.stdin.write("\n")
            producer.stdin.flush()
            self.assertEqual(producer.stdout.readline().split(), ["first-byte", "7"])
        finally:
            producer.kill()
            producer.wait(30)


if __name__ == "__main__":
    unittest.main()
