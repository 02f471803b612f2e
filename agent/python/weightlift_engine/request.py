"""The argument the agent's trigger passes to every worker: ``{endpoint, update, timeout_s}`` as JSON text."""

import json
import os

from .client import DEFAULT_TIMEOUT_S


def parse_request(request):
    """Accepts the JSON string vLLM forwards (or an already decoded dict); returns (endpoint, update, timeout_s)."""
    if isinstance(request, (str, bytes)):
        request = json.loads(request)
    if not isinstance(request, dict):
        raise ValueError(f"weight update request must be a JSON object, got {type(request).__name__}")
    endpoint = request.get("endpoint")
    update = request.get("update")
    if not isinstance(endpoint, str) or not isinstance(update, str):
        raise ValueError("weight update request needs string fields 'endpoint' and 'update'")
    timeout_s = float(request.get("timeout_s", DEFAULT_TIMEOUT_S))
    return local_endpoint(endpoint), update, timeout_s


def local_endpoint(endpoint, socket_dir=None):
    """The agent's Unix endpoint as this pod sees it: when ``WEIGHTLIFT_SOCKET_DIR`` (or ``socket_dir``) is set,
    the socket file is looked up there, because the engine pod may mount the agent's socket directory at another
    path than the agent does. TCP endpoints are unchanged."""
    socket_dir = socket_dir or os.environ.get("WEIGHTLIFT_SOCKET_DIR")
    if socket_dir and endpoint.startswith("unix://"):
        return "unix://" + os.path.join(socket_dir, os.path.basename(endpoint[len("unix://"):]))
    return endpoint
