"""A vLLM-style test engine: ``GET /health`` and ``POST /collective_rpc`` over one TinyModel per GPU UUID.

    python -m weightlift_engine.testing.engine --port 0 --gpu-uuids GPU-a,GPU-b [--socket-dir D] [--fail-at-bucket N]
        [--die-at-bucket N] [--never-connect] [--health-delay S] [--fault-file F] [--hidden H --layers L --vocab V --dtype D]

``--fault-file F``: read before every bucket, so a test can inject a fault into a running engine: ``delay S``
(sleep S seconds per bucket), ``hang`` (stop answering until the file says otherwise), ``fail`` (raise),
``die`` (exit at once, status 3); absent or empty: no fault.

Prints ``READY port=<port>`` once it listens. ``/collective_rpc`` methods: ``update_weights_from_agent``
(the vLLM extension's), ``describe_parameters``, ``weight_checksums``.
"""

import argparse
import json
import logging
import os
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch

from ..client import update_from_agent
from ..request import parse_request
from .model import TinyModel


class Faults:

    def __init__(self, args):
        self.fail_at_bucket = args.fail_at_bucket
        self.die_at_bucket = args.die_at_bucket
        self.never_connect = args.never_connect
        self.fault_file = args.fault_file

    def runtime_fault(self):
        """The fault the fault file names now: (kind, argument), or (None, None)."""
        if not self.fault_file:
            return None, None
        try:
            with open(self.fault_file) as f:
                words = f.read().split()
        except FileNotFoundError:
            return None, None
        if not words:
            return None, None
        return words[0], (words[1] if len(words) > 1 else None)

    def apply_runtime_fault(self, bucket):
        kind, argument = self.runtime_fault()
        if kind == "delay":
            time.sleep(float(argument))
        elif kind == "hang":
            while self.runtime_fault()[0] == "hang":
                time.sleep(0.05)
        elif kind == "fail":
            raise RuntimeError(f"injected failure at bucket {bucket} (fault file)")
        elif kind == "die":
            os._exit(3)


class Worker:
    """One engine worker (one GPU), holding its own model like a vLLM worker process does."""

    def __init__(self, gpu_uuid, model, faults):
        self.gpu_uuid = gpu_uuid
        self.model = model
        self.faults = faults
        self.version = None

    def update_weights_from_agent(self, request):
        endpoint, update, timeout_s = parse_request(request)
        if self.faults.never_connect:
            time.sleep(timeout_s)
            raise TimeoutError("fault injection: the worker never connected")
        buckets = [0]

        def run(weights):
            self.faults.apply_runtime_fault(buckets[0])
            if buckets[0] == self.faults.die_at_bucket:
                os._exit(3)
            if buckets[0] == self.faults.fail_at_bucket:
                raise RuntimeError(f"injected failure at bucket {buckets[0]}")
            self.model.load_weights(weights)
            buckets[0] += 1

        result = update_from_agent(endpoint, run, update=update, gpu_uuid=self.gpu_uuid, timeout_s=timeout_s,
                                   engine=f"weightlift-test-engine torch {torch.__version__}")
        self.version = result["version"]
        return result

    def describe_parameters(self):
        return self.model.describe()

    def weight_checksums(self):
        return {"gpu_uuid": self.gpu_uuid, "version": self.version, "parameters": self.model.checksums()}


METHODS = ("update_weights_from_agent", "describe_parameters", "weight_checksums")


def collective_rpc(workers, method, args, timeout):
    """Runs ``method`` on every worker in parallel, like vLLM; returns the results or raises the first error."""
    if method not in METHODS:
        raise ValueError(f"unknown method '{method}'")
    results = [None] * len(workers)
    errors = [None] * len(workers)

    def call(i):
        try:
            results[i] = getattr(workers[i], method)(*args)
        except BaseException:
            errors[i] = traceback.format_exc()

    threads = [threading.Thread(target=call, args=(i,), daemon=True) for i in range(len(workers))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + (timeout if timeout else 3600)
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        raise TimeoutError(f"collective_rpc '{method}' timed out after {timeout} s")
    failed = [e for e in errors if e]
    if failed:
        raise RuntimeError("\n".join(failed))
    return results


def make_handler(workers, ready_at):

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            logging.getLogger("weightlift_engine.testing").debug(fmt, *args)

        def _reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/health":
                if time.monotonic() < ready_at:
                    self._reply(503, {"error": "starting"})
                else:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
            else:
                self._reply(404, {"error": f"no route {self.path}"})

        def do_POST(self):
            if self.path != "/collective_rpc":
                self._reply(404, {"error": f"no route {self.path}"})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                method = body.get("method")
                if not method:
                    self._reply(400, {"error": "Missing 'method' in request body"})
                    return
                results = collective_rpc(workers, method, body.get("args", []), body.get("timeout"))
                self._reply(200, {"results": results})
            except Exception as e:
                self._reply(500, {"error": str(e)})

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m weightlift_engine.testing.engine", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--gpu-uuids", default="GPU-00000000-0000-0000-0000-000000000000",
                        help="comma list, one worker per UUID")
    parser.add_argument("--socket-dir", help="where this process sees the agent's socket directory "
                        "(sets WEIGHTLIFT_SOCKET_DIR; default: the path the agent names)")
    parser.add_argument("--vocab", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    parser.add_argument("--fail-at-bucket", type=int, default=-1)
    parser.add_argument("--die-at-bucket", type=int, default=-1)
    parser.add_argument("--never-connect", action="store_true")
    parser.add_argument("--fault-file", help="a file naming a fault to inject at each bucket (see the module's doc)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (copies into the model)")
    parser.add_argument("--health-delay", type=float, default=0.0, help="answer /health 503 for this many seconds")
    args = parser.parse_args(argv)
    if args.socket_dir:
        os.environ["WEIGHTLIFT_SOCKET_DIR"] = args.socket_dir
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    faults = Faults(args)
    dtype = getattr(torch, args.dtype)
    workers = [Worker(uuid, TinyModel(args.vocab, args.hidden, args.layers, dtype), faults)
               for uuid in args.gpu_uuids.split(",") if uuid]
    server = ThreadingHTTPServer((args.host, args.port), make_handler(workers, time.monotonic() + args.health_delay))
    server.daemon_threads = True
    print(f"READY port={server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
