"""An engine worker speaking checkpoint-engine v0.4's receive loop (checkpoint_engine.worker.
update_weights_from_ipc, reference §10), against the stub torch: REP connect, IPC handle, buckets
answered b"" or a traceback, None = release, None = post-hook, an Exception = raise it.

Usage: ce_worker.py ADDRESS DEVICE_ID LOG [--fail-bucket N] [--fail-open]
Every event is one JSON line in LOG, so the Java test can check what the worker saw.
"""

import json
import sys
import traceback

import torch
import zmq


def main():
    address, device_id, log_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    fail_bucket = int(sys.argv[sys.argv.index("--fail-bucket") + 1]) if "--fail-bucket" in sys.argv else -1
    fail_open = "--fail-open" in sys.argv
    assert getattr(torch, "STUB", False), "the stub torch must shadow the real one"
    log = open(log_path, "w", buffering=1)

    def event(**fields):
        log.write(json.dumps(fields) + "\n")

    def run(bucket_index, weights):
        if bucket_index == fail_bucket:
            raise ValueError(f"cannot load {weights[0][0]}: shape mismatch")
        event(kind="bucket", index=bucket_index, tensors=[[n, repr(d), list(s), o] for n, d, s, o in weights])

    ctx = zmq.Context()
    socket = ctx.socket(zmq.REP)
    socket.connect(address)
    try:
        func, args = socket.recv_pyobj()
        args = list(args)
        args[6] = device_id
        if fail_open:
            raise RuntimeError("cudaIpcOpenMemHandle failed: invalid argument")
        buffer = func(*args)
        assert buffer.dtype is torch.uint8
        event(kind="shared", size=buffer.size, device=buffer.device, handle=buffer.handle.hex())
        socket.send(b"")
    except Exception as e:
        socket.send_string("".join(traceback.format_exception(type(e), e, e.__traceback__)))
        socket.recv()
        event(kind="open_failed")
        raise
    released = False
    buckets = 0
    while True:
        payload = socket.recv_pyobj()
        if payload is None and not released:
            buffer = None
            released = True
            event(kind="released")
            socket.send(b"")
        elif payload is None:
            event(kind="post_hook")
            socket.send(b"")
            break
        elif isinstance(payload, list):
            try:
                weights = []
                for item in payload:
                    shape, dtype, offset = item["shape"], item["dtype"], item["offset"]
                    assert offset + dtype.itemsize * shape.numel() <= buffer.size, item
                    weights.append((item["name"], dtype, shape, offset))
                run(buckets, weights)
                socket.send(b"")
            except Exception as e:  # noqa: BLE001 - the worker answers every load error with its traceback
                socket.send_string("".join(traceback.format_exception(type(e), e, e.__traceback__)))
            buckets += 1
        elif isinstance(payload, Exception):
            event(kind="raised", message=str(payload))
            raise payload
        else:
            raise TypeError(f"Unexpected payload type: {type(payload)}")
    socket.close()
    ctx.term()


if __name__ == "__main__":
    main()
