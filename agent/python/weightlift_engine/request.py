"""The argument the agent's trigger passes to every worker: ``{endpoint, update, timeout_s}`` as JSON text."""

import json

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
    return endpoint, update, timeout_s
