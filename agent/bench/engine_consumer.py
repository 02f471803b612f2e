"""A stand-in engine worker for the GPU benchmarks, driven by one-line commands on stdin (one reply line
each). It holds either a flat byte "model" (checkable pattern) or a transformers model, and receives weights
either through the real native protocol (``update``: ``weightlift_engine.update_from_agent``, what engines
run) or through raw bucket commands (``open``/``load``, for the protocol-free reference bench).
The agent's buffer is opened zero-copy with ``weightlift_engine.buffers`` (CUDA IPC via ctypes).

  update ENDPOINT NAME          run update NAME from the agent at ENDPOINT; tensors named "bytes@OFFSET" go
                                to that offset of the byte model, others to the model tensor of that name
  open HEX SIZE                 open the agent's buffer (64-byte cudaIpcMemHandle in hex)
  alloc NBYTES                  a private "model" buffer, filled with random bytes
  load SRC DST NBYTES           copy buffer[SRC:SRC+N] -> model[DST:DST+N]
  check SEED NBYTES             compare the model with the agent's pattern; reply "ok MISMATCHED_WORDS"
  model CONFIG_JSON SEED        build a transformers model from a config (random weights, bf16)
  logits REF_PATH               compare the model's logits with a saved reference; reply "ok equal|differ MAXDIFF"
  quit
Usage: engine_consumer.py GPU_UUID
"""
import json
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
from weightlift_engine.buffers import device_for_uuid, open_buffer  # noqa: E402
from weightlift_engine.client import update_from_agent  # noqa: E402

GOLDEN = 0x9E3779B97F4A7C15 - (1 << 64)

def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def pattern(start_word, words, seed, device):
    return torch.arange(start_word, start_word + words, dtype=torch.int64, device=device) * GOLDEN + seed


class Consumer:
    def __init__(self, uuid):
        self.uuid = uuid
        if torch.cuda.is_available():
            self.device = device_for_uuid(uuid)
            torch.cuda.set_device(self.device)
        else:
            self.device = torch.device("cpu")
        self.shared = None
        self.buffer = None
        self.model = None
        self.tensors = None

    def open(self, hex_handle, size):
        handle = {"kind": "cuda-ipc", "size": int(size), "device_uuid": self.uuid}
        self.shared = open_buffer(handle, bytes.fromhex(hex_handle), self.device)
        self.buffer = self.shared.tensor
        return "ok"

    def update(self, endpoint, name):
        def run(weights):
            for tensor_name, tensor in weights:
                if tensor_name.startswith("bytes@"):
                    offset = int(tensor_name[len("bytes@"):])
                    flat = tensor.reshape(-1).view(torch.uint8)
                    self.model[offset:offset + flat.numel()].copy_(flat)
                else:
                    self.tensors[tensor_name].copy_(tensor)

        result = update_from_agent(endpoint, run, update=name, gpu_uuid=self.uuid, device=self.device)
        return f"ok {result['buckets']} {result['bytes']}"

    def alloc(self, nbytes):
        self.model = None
        self.model = torch.randint(0, 256, (int(nbytes),), dtype=torch.uint8, device=self.device)
        synchronize(self.device)
        return "ok"

    def load(self, src, dst, nbytes):
        src, dst, nbytes = int(src), int(dst), int(nbytes)
        self.model[dst:dst + nbytes].copy_(self.buffer[src:src + nbytes])
        synchronize(self.device)
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

    def logits(self, ref_path):
        ref = torch.load(ref_path, map_location=self.device)
        with torch.no_grad():
            got = self.model(ref["input_ids"]).logits
        if torch.equal(got, ref["logits"]):
            return "ok equal"
        return f"ok differ {float((got.float() - ref['logits'].float()).abs().max())}"

    def quit(self):
        self.buffer = None
        if self.shared is not None:
            self.shared.close()
        return "ok"


def main():
    consumer = Consumer(sys.argv[1])
    commands = {"update": consumer.update, "open": consumer.open, "alloc": consumer.alloc, "load": consumer.load, "check": consumer.check,
                "model": consumer.build_model, "logits": consumer.logits,
                "quit": consumer.quit}
    print("ready", flush=True)
    for line in sys.stdin:
        verb, _, rest = line.strip().partition(" ")
        args = rest.rsplit(" ", 1) if verb == "model" else rest.split()
        try:
            reply = commands[verb](*[a for a in args if a != ""])
        except Exception as e:  # the agent gets the error text, as from a real worker
            reply = f"error {type(e).__name__}: {e}".replace("\n", " ")
        print(reply, flush=True)
        if verb == "quit":
            break


if __name__ == "__main__":
    main()
