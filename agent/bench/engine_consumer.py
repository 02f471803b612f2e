"""A stand-in engine worker for the GPU benchmarks: opens the agent's CUDA IPC buffer zero-copy and copies
buckets out of it into its own GPU memory, driven by one-line commands on stdin (one reply line each).

  open HEX SIZE                 open the agent's buffer (64-byte cudaIpcMemHandle in hex)
  alloc NBYTES                  a private "model" buffer, filled with random bytes
  load SRC DST NBYTES           copy buffer[SRC:SRC+N] -> model[DST:DST+N]
  check SEED NBYTES             compare the model with the agent's pattern; reply "ok MISMATCHED_WORDS"
  model CONFIG_JSON SEED        build a transformers model from a config (random weights, bf16)
  tensors JSON                  copy [{name, dtype, shape, offset}] from the buffer into the model's tensors
  logits REF_PATH               compare the model's logits with a saved reference; reply "ok equal|differ MAXDIFF"
  quit
Usage: engine_consumer.py GPU_UUID
"""
import ctypes
import json
import sys

import torch

GOLDEN = 0x9E3779B97F4A7C15 - (1 << 64)
DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32, "F64": torch.float64,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}


class IpcHandle(ctypes.Structure):
    _fields_ = [("reserved", ctypes.c_char * 64)]


def cudart():
    try:
        lib = ctypes.CDLL("libcudart.so.13")
    except OSError:
        import nvidia
        lib = ctypes.CDLL(list(nvidia.__path__)[0] + "/cu13/lib/libcudart.so.13")
    lib.cudaIpcOpenMemHandle.argtypes = [ctypes.POINTER(ctypes.c_void_p), IpcHandle, ctypes.c_uint]
    lib.cudaIpcCloseMemHandle.argtypes = [ctypes.c_void_p]
    return lib


class DeviceBytes:
    def __init__(self, ptr, size):
        self.__cuda_array_interface__ = {"shape": (size,), "typestr": "|u1", "data": (ptr, False), "version": 3}


def device_of(uuid):
    want = uuid.lower().removeprefix("gpu-").replace("-", "")
    for i in range(torch.cuda.device_count()):
        if str(torch.cuda.get_device_properties(i).uuid).lower().removeprefix("gpu-").replace("-", "") == want:
            return i
    raise SystemExit(f"no GPU with uuid {uuid}")


def pattern(start_word, words, seed, device):
    return torch.arange(start_word, start_word + words, dtype=torch.int64, device=device) * GOLDEN + seed


class Consumer:
    def __init__(self, uuid):
        self.device = device_of(uuid)
        torch.cuda.set_device(self.device)
        torch.zeros(1, device=self.device)
        self.lib = cudart()
        self.ptr = None
        self.buffer = None
        self.model = None
        self.tensors = None

    def open(self, hex_handle, size):
        handle = IpcHandle.from_buffer_copy(bytes.fromhex(hex_handle))
        ptr = ctypes.c_void_p()
        rc = self.lib.cudaIpcOpenMemHandle(ctypes.byref(ptr), handle, 1)
        if rc != 0:
            return f"error cudaIpcOpenMemHandle returned {rc}"
        self.ptr = ptr
        self.buffer = torch.as_tensor(DeviceBytes(ptr.value, int(size)), device=f"cuda:{self.device}")
        return "ok"

    def alloc(self, nbytes):
        self.model = torch.randint(0, 256, (int(nbytes),), dtype=torch.uint8, device=self.device)
        torch.cuda.synchronize()
        return "ok"

    def load(self, src, dst, nbytes):
        src, dst, nbytes = int(src), int(dst), int(nbytes)
        self.model[dst:dst + nbytes].copy_(self.buffer[src:src + nbytes])
        torch.cuda.current_stream().synchronize()
        return "ok"

    def check(self, seed, nbytes):
        seed, nbytes = int(seed), int(nbytes)
        words = self.model[:nbytes].view(torch.int64)
        chunk = 1 << 27
        bad = 0
        for start in range(0, words.numel(), chunk):
            part = words[start:start + chunk]
            bad += int((part != pattern(start, part.numel(), seed, self.device)).sum())
        return f"ok {bad}"

    def build_model(self, config_json, seed):
        from transformers import AutoConfig, AutoModelForCausalLM
        config = AutoConfig.for_model(**json.loads(config_json))
        torch.manual_seed(int(seed))
        self.model = AutoModelForCausalLM.from_config(config).to(torch.bfloat16).to(self.device).eval()
        self.tensors = self.model.state_dict()
        return "ok"

    def load_tensors(self, entries_json):
        for e in json.loads(entries_json):
            dtype = DTYPES[e["dtype"]]
            target = self.tensors.get(e["name"])
            if target is None:
                return f"error no tensor {e['name']} in the model"
            nbytes = target.numel() * target.element_size()
            view = self.buffer[e["offset"]:e["offset"] + nbytes].view(dtype).view(e["shape"])
            if target.dtype != dtype or list(target.shape) != list(e["shape"]):
                return f"error {e['name']}: model has {target.dtype} {list(target.shape)}, got {e['dtype']} {e['shape']}"
            target.copy_(view)
        torch.cuda.current_stream().synchronize()
        return "ok"

    def logits(self, ref_path):
        ref = torch.load(ref_path, map_location=f"cuda:{self.device}")
        with torch.no_grad():
            got = self.model(ref["input_ids"]).logits
        if torch.equal(got, ref["logits"]):
            return "ok equal"
        return f"ok differ {float((got.float() - ref['logits'].float()).abs().max())}"

    def quit(self):
        self.buffer = None
        if self.ptr is not None:
            self.lib.cudaIpcCloseMemHandle(self.ptr)
        return "ok"


def main():
    consumer = Consumer(sys.argv[1])
    commands = {"open": consumer.open, "alloc": consumer.alloc, "load": consumer.load, "check": consumer.check,
                "model": consumer.build_model, "tensors": consumer.load_tensors, "logits": consumer.logits,
                "quit": consumer.quit}
    print("ready", flush=True)
    for line in sys.stdin:
        verb, _, rest = line.strip().partition(" ")
        args = rest.rsplit(" ", 1) if verb == "model" else ([rest] if verb == "tensors" else rest.split())
        try:
            reply = commands[verb](*[a for a in args if a != ""])
        except Exception as e:  # the agent gets the error text, as from a real worker
            reply = f"error {type(e).__name__}: {e}".replace("\n", " ")
        print(reply, flush=True)
        if verb == "quit":
            break


if __name__ == "__main__":
    main()
