"""A stand-in engine worker for the GPU benchmarks, driven by one-line commands on stdin (one reply line
each). It holds either a flat byte "model" (checkable pattern) or a transformers model, and receives weights
either through the real native protocol (``update``: ``weightlift_engine.update_from_agent``, what engines
run) or through raw bucket commands (``open``/``load``, for the protocol-free reference bench).
The agent's buffer is opened zero-copy with ``weightlift_engine.buffers`` (CUDA IPC via ctypes).

  update ENDPOINT NAME          run update NAME from the agent at ENDPOINT; tensors named "bytes@OFFSET" go
                                to that offset of the byte model, others to the model tensor of that name
  open HEX SIZE                 open the agent's buffer (64-byte cudaIpcMemHandle in hex)
  alloc NBYTES                  a private "model" buffer, filled with random bytes
  alloc NBYTES RANK RANKS BUCKET STRIDE
                                as tensor-parallel rank RANK of RANKS of a checkpoint of NBYTES in tensors of
                                BUCKET bytes ("bytes@OFFSET"): the engine keeps slice RANK of every tensor (its
                                shard, what a TP engine loads) and the whole of one tensor in every STRIDE
                                (the sample), all in buffers filled with random bytes; for checkpoints larger
                                than one GPU
  load SRC DST NBYTES           copy buffer[SRC:SRC+N] -> model[DST:DST+N]
  check SEED NBYTES             compare the model with the agent's pattern; reply "ok MISMATCHED_WORDS"
                                (sharded: "ok MISMATCHED_WORDS sample_tensors=K sample_bytes=B shard_bytes=S")
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


def mismatched_words(data, start_byte, seed, device):
    """Words of ``data`` (bytes from checkpoint byte ``start_byte`` on) that differ from the agent's pattern."""
    words = data.view(torch.int64)
    first = start_byte // 8
    chunk = 1 << 27
    bad = 0
    for start in range(0, words.numel(), chunk):
        part = words[start:start + chunk]
        bad += int((part != pattern(first + start, part.numel(), seed, device)).sum())
    return bad


class Sharded:
    """A tensor-parallel engine's view of a checkpoint of ``total`` bytes in tensors of ``bucket`` bytes: slice
    ``rank`` of ``ranks`` of every tensor (whole words), and a sample of whole tensors: in each run of
    ``stride`` tensors, the one at position (run index mod stride), so that the sample spans every owner."""

    def __init__(self, total, rank, ranks, bucket, stride, device):
        if total % 8 or bucket % 8:
            raise ValueError(f"checkpoint {total} and tensor size {bucket} must be whole 8-byte words")
        self.total, self.rank, self.ranks, self.bucket, self.stride = total, rank, ranks, bucket, stride
        self.count = -(-total // bucket)
        self.slice_words = -(-(bucket // 8) // ranks)
        self.shard = torch.randint(0, 256, (self.count * self.slice_words * 8,), dtype=torch.uint8, device=device)
        self.sample_ids = [i for i in range(self.count) if i % stride == (i // stride) % stride]
        self.sample = torch.randint(0, 256, (len(self.sample_ids) * bucket,), dtype=torch.uint8, device=device)
        self.device = device

    def size(self, index):
        return min(self.bucket, self.total - index * self.bucket)

    def slice(self, index):
        """Bytes [start, end) of tensor ``index`` that this rank keeps."""
        words = self.size(index) // 8
        start = min(words, self.rank * self.slice_words)
        return start * 8, min(words, start + self.slice_words) * 8

    def load(self, offset, flat):
        index = offset // self.bucket
        if offset % self.bucket or flat.numel() != self.size(index):
            raise ValueError(f"tensor bytes@{offset} of {flat.numel()} bytes is not tensor {index} of the plan")
        start, end = self.slice(index)
        at = index * self.slice_words * 8
        self.shard[at:at + end - start].copy_(flat[start:end])
        if index % self.stride == (index // self.stride) % self.stride:
            at = (index // self.stride) * self.bucket
            self.sample[at:at + flat.numel()].copy_(flat)

    def check(self, seed):
        bad = 0
        shard_bytes = 0
        for index in range(self.count):
            start, end = self.slice(index)
            at = index * self.slice_words * 8
            bad += mismatched_words(self.shard[at:at + end - start], index * self.bucket + start, seed, self.device)
            shard_bytes += end - start
        sample_bytes = 0
        for index in self.sample_ids:
            at = (index // self.stride) * self.bucket
            size = self.size(index)
            bad += mismatched_words(self.sample[at:at + size], index * self.bucket, seed, self.device)
            sample_bytes += size
        return f"{bad} sample_tensors={len(self.sample_ids)} sample_bytes={sample_bytes} shard_bytes={shard_bytes}"


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
        self.sharded = None

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
                    if self.sharded is not None:
                        self.sharded.load(offset, flat)
                    else:
                        self.model[offset:offset + flat.numel()].copy_(flat)
                else:
                    self.tensors[tensor_name].copy_(tensor)

        result = update_from_agent(endpoint, run, update=name, gpu_uuid=self.uuid, device=self.device)
        return f"ok {result['buckets']} {result['bytes']}"

    def alloc(self, nbytes, *sharding):
        self.model = None
        self.sharded = None
        if sharding:
            self.sharded = Sharded(int(nbytes), *[int(a) for a in sharding], self.device)
        else:
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
        if self.sharded is not None:
            return "ok " + self.sharded.check(seed)
        return f"ok {mismatched_words(self.model[:nbytes], 0, seed, self.device)}"

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
