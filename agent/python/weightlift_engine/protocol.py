"""Frames and messages of the Weightlift native engine protocol, version 1 (agent/docs/engine-protocol.md).

Standard library only. A frame is ``u32 json_length | u32 raw_length | json | raw`` (big-endian).
"""

import json
import socket
import struct
import time

PROTOCOL_VERSION = 1
# Optional abilities this worker declares in ``hello``: "host-buffers" = it maps the agent's host-store files
# and reads tensors from them in place (``share.host_buffers``, ``buffer`` in a tensor entry).
FEATURES = ("host-buffers",)
HEADER = struct.Struct(">II")
MAX_JSON_BYTES = 16 << 20
MAX_RAW_BYTES = 4096


class ProtocolError(Exception):
    """A frame or message that breaks the protocol."""


class AgentError(Exception):
    """The agent turned the worker away or sent an error."""


class UpdateAborted(Exception):
    """The agent abandoned the update (it sent ``abort``)."""


def encode_frame(message, raw=b""):
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_JSON_BYTES:
        raise ProtocolError(f"'{message.get('type')}' message of {len(body)} bytes exceeds {MAX_JSON_BYTES}")
    if len(raw) > MAX_RAW_BYTES:
        raise ProtocolError(f"raw payload of {len(raw)} bytes exceeds {MAX_RAW_BYTES}")
    return HEADER.pack(len(body), len(raw)) + body + bytes(raw)


def decode_header(header, max_json_bytes=MAX_JSON_BYTES):
    json_length, raw_length = HEADER.unpack(header)
    if json_length < 2:
        raise ProtocolError(f"frame with a JSON length of {json_length} bytes (at least 2 needed)")
    if json_length > max_json_bytes:
        raise ProtocolError(f"frame with a JSON length of {json_length} bytes exceeds the limit of {max_json_bytes}")
    if raw_length > MAX_RAW_BYTES:
        raise ProtocolError(f"frame with a raw length of {raw_length} bytes exceeds the limit of {MAX_RAW_BYTES}")
    return json_length, raw_length


def decode_body(body):
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ProtocolError(f"frame body is not UTF-8 JSON: {e}") from e
    if not isinstance(message, dict):
        raise ProtocolError(f"frame body is a JSON {type(message).__name__}, not an object")
    if not isinstance(message.get("type"), str):
        raise ProtocolError("message without a string 'type' field")
    return message


def parse_endpoint(endpoint):
    """``unix:///path`` → (AF_UNIX, path); ``tcp://host:port`` → (AF_INET, (host, port))."""
    if endpoint.startswith("unix://"):
        return socket.AF_UNIX, endpoint[len("unix://"):]
    if endpoint.startswith("tcp://"):
        host, _, port = endpoint[len("tcp://"):].rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"bad tcp endpoint '{endpoint}', expected tcp://host:port")
        return socket.AF_INET, (host.strip("[]"), int(port))
    raise ValueError(f"endpoint must start with unix:// or tcp://, got '{endpoint}'")


class Connection:
    """One connection to the agent; every receive and send has a deadline."""

    def __init__(self, sock, peer):
        self._sock = sock
        self.peer = peer

    @classmethod
    def connect(cls, endpoint, timeout_s):
        """Connects, retrying while the socket is missing or refuses, until ``timeout_s`` passes."""
        family, address = parse_endpoint(endpoint)
        deadline = time.monotonic() + timeout_s
        delay = 0.05
        while True:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                sock.connect(address)
                return cls(sock, endpoint)
            except (FileNotFoundError, ConnectionRefusedError) as e:
                sock.close()
                if time.monotonic() + delay > deadline:
                    raise TimeoutError(f"cannot connect to the Weightlift agent at {endpoint} "
                                       f"within {timeout_s:g} s: {e}") from e
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
            except BaseException:
                sock.close()
                raise

    def send(self, message, raw=b"", timeout_s=30.0):
        self._sock.settimeout(timeout_s)
        self._sock.sendall(encode_frame(message, raw))

    def recv(self, timeout_s):
        """Returns ``(message, raw)``; raises TimeoutError, ConnectionError (EOF) or ProtocolError."""
        deadline = time.monotonic() + timeout_s
        json_length, raw_length = decode_header(self._read(HEADER.size, deadline, True))
        body = self._read(json_length, deadline, False)
        raw = self._read(raw_length, deadline, False) if raw_length else b""
        return decode_body(body), raw

    def _read(self, n, deadline, frame_start):
        chunks = bytearray()
        while len(chunks) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no message from the Weightlift agent at {self.peer} before the deadline")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(n - len(chunks))
            except socket.timeout as e:
                raise TimeoutError(f"no message from the Weightlift agent at {self.peer} before the deadline") from e
            if not chunk:
                where = "" if frame_start and not chunks else " in the middle of a frame"
                raise ConnectionError(f"the Weightlift agent at {self.peer} closed the connection{where}")
            chunks += chunk
        return bytes(chunks)

    def close(self):
        self._sock.close()
