"""The engine worker's side of one update: ``update_from_agent``."""

import logging
import os
import time
import traceback
import zlib

from .buffers import current_gpu_uuid, open_buffer
from . import host_buffers
from .host_buffers import HostBuffers
from .protocol import FEATURES, PROTOCOL_VERSION, AgentError, Connection, ProtocolError, UpdateAborted

log = logging.getLogger("weightlift_engine")

DEFAULT_TIMEOUT_S = 600.0
DEFAULT_CONNECT_TIMEOUT_S = 30.0


def update_from_agent(endpoint, run, post_hook=None, *, update, gpu_uuid=None, timeout_s=DEFAULT_TIMEOUT_S,
                      connect_timeout_s=DEFAULT_CONNECT_TIMEOUT_S, engine="", device=None):
    """Receives one weight update from the Weightlift agent at ``endpoint`` and loads it.

    ``update`` is the update id the agent's trigger passed (see ``request.parse_request``). ``gpu_uuid`` names this worker's GPU ("GPU-…"); None takes the UUID of torch's current CUDA device.

    ``run(weights)`` gets a list of ``(name, tensor)`` pairs per bucket (views of the shared buffer or of the
    agent's host-store files, valid only during the call: copy what you keep, as every ``load_weights`` does).
    ``post_hook()`` runs after the buffers are released. ``timeout_s`` bounds each wait for the agent. Returns
    ``{gpu_uuid, version, buckets, bytes}``; raises on any failure after telling the agent.
    """
    if gpu_uuid is None:
        gpu_uuid = current_gpu_uuid()
    conn = Connection.connect(endpoint, connect_timeout_s)
    try:
        conn.send({"type": "hello", "protocol": PROTOCOL_VERSION, "gpu_uuid": gpu_uuid, "pid": os.getpid(),
                   "engine": engine, "update": update, "features": list(FEATURES)})
        welcome, _ = conn.recv(timeout_s)
        if welcome["type"] == "error":
            raise AgentError(f"the Weightlift agent refused GPU {gpu_uuid}: {welcome.get('message')}")
        if welcome["type"] != "welcome":
            raise ProtocolError(f"expected 'welcome', got '{welcome['type']}'")
        return _Session(conn, gpu_uuid, run, post_hook, timeout_s, device).serve()
    finally:
        conn.close()
        host_buffers.CACHE.check_released()


class _Session:

    def __init__(self, conn, gpu_uuid, run, post_hook, timeout_s, device):
        self.conn = conn
        self.gpu_uuid = gpu_uuid
        self.run = run
        self.post_hook = post_hook
        self.timeout_s = timeout_s
        self.device = device
        self.buffer = None
        self.host = None
        self.buckets = 0
        self.bytes = 0

    def serve(self):
        started = time.monotonic()
        try:
            while True:
                message, raw = self.conn.recv(self.timeout_s)
                kind = message["type"]
                if kind == "share":
                    self._close_buffer()
                    self._open(message, raw)
                    self.conn.send({"type": "ack"})
                elif kind == "bucket":
                    self._load(message)
                    self.conn.send({"type": "ack", "id": message["id"]})
                elif kind == "release":
                    self._close_buffer()
                    self.conn.send({"type": "ack"})
                elif kind == "finish":
                    self._close_buffer()
                    if self.post_hook is not None:
                        self.post_hook()
                    version = message.get("version", "")
                    self.conn.send({"type": "done", "version": version})
                    log.info("weight update done gpu=%s version=%s buckets=%d bytes=%d seconds=%.3f",
                             self.gpu_uuid, version, self.buckets, self.bytes, time.monotonic() - started)
                    return {"gpu_uuid": self.gpu_uuid, "version": version, "buckets": self.buckets,
                            "bytes": self.bytes}
                elif kind == "abort":
                    self._close_buffer()
                    self.conn.send({"type": "ack"}, timeout_s=2.0)
                    raise UpdateAborted(f"the Weightlift agent aborted the update: {message.get('reason', '')}")
                elif kind == "error":
                    raise AgentError(f"the Weightlift agent reported: {message.get('message', '')}")
                else:
                    raise ProtocolError(f"unexpected message type '{kind}'")
        except (UpdateAborted, AgentError, ConnectionError):
            self._close_buffer_quietly()
            raise
        except BaseException:
            text = traceback.format_exc()
            self._close_buffer_quietly()
            try:
                self.conn.send({"type": "error", "message": text}, timeout_s=2.0)
            except OSError:
                pass
            raise

    def _open(self, message, raw):
        handle = message.get("handle")
        windows = message.get("host_buffers")
        if handle is None and windows is None:
            raise ProtocolError("'share' message needs a 'handle' or 'host_buffers'")
        if handle is not None:
            self.buffer = open_buffer(handle, raw, self.device)
        if windows is not None:
            self.host = HostBuffers(windows, message.get("read_ahead", []))

    def _buffer_of(self, entry):
        """The buffer a tensor entry lies in: a host-store file when it names one, the shared buffer otherwise."""
        if not isinstance(entry, dict):
            raise ProtocolError(f"malformed tensor entry {entry!r}")
        if "buffer" in entry:
            if self.host is None:
                raise ProtocolError(f"tensor '{entry.get('name')}' names a host buffer, the update shared none")
            return self.host.buffer(entry)
        if self.buffer is None:
            raise ProtocolError(f"tensor '{entry.get('name')}' lies in the shared buffer, the update shared none")
        return self.buffer

    def _load(self, message):
        if self.buffer is None and self.host is None:
            raise ProtocolError("bucket before the shared buffer was shared")
        bucket_id = message.get("id")
        if bucket_id != self.buckets:
            raise ProtocolError(f"bucket {bucket_id} arrived, expected bucket {self.buckets}")
        entries = message.get("tensors")
        if not isinstance(entries, list):
            raise ProtocolError(f"bucket {bucket_id} has no 'tensors' list")
        weights = [(entry["name"], self._buffer_of(entry).view(entry)) for entry in entries]
        checksum = message.get("checksum")
        if checksum is not None:
            self._verify(bucket_id, entries, checksum)
        self.run(weights)
        del weights
        if self.buffer is not None:
            self.buffer.synchronize()
        self.buckets += 1
        self.bytes += sum(entry["nbytes"] for entry in entries)

    def _verify(self, bucket_id, entries, checksum):
        if checksum.get("algorithm") != "crc32":
            raise ProtocolError(f"bucket {bucket_id}: unknown checksum algorithm {checksum.get('algorithm')!r}")
        crc = 0
        for entry in entries:
            flat = self._buffer_of(entry).raw(entry)
            crc = zlib.crc32(memoryview(flat.cpu().numpy()), crc)  # no copy of host bytes
        if crc != checksum.get("value"):
            raise ValueError(f"bucket {bucket_id}: checksum mismatch (crc32 {crc:#010x}, agent sent "
                             f"{checksum.get('value'):#010x})")

    def _close_buffer(self):
        if self.host is not None:
            host, self.host = self.host, None
            host.close()
        if self.buffer is not None:
            buffer, self.buffer = self.buffer, None
            buffer.close()

    def _close_buffer_quietly(self):
        try:
            self._close_buffer()
        except Exception:
            log.exception("closing the shared buffer failed")
