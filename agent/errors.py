"""The one exception type of the agent package."""


class AgentError(Exception):
    """Raised for bad agent input or a failure the user must act on (LLM down, no plan)."""
