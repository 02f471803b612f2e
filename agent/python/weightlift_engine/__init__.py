"""Engine-side package of Weightlift: receive weight updates from the node's agent (native protocol)."""

from .client import update_from_agent
from .protocol import AgentError, ProtocolError, UpdateAborted

__all__ = ["update_from_agent", "AgentError", "ProtocolError", "UpdateAborted"]
