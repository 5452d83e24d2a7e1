"""The exception types of the agent package."""


class AgentError(Exception):
    """Raised for bad agent input or a failure the user must act on (LLM down, no plan)."""


class LLMUnavailable(Exception):
    """The LLM server cannot be reached or did not answer in time, after bounded retries.

    Deliberately not an `AgentError`: the agent's stages turn an AgentError into "this way
    did not work, try the next" (another plan, another candidate), which against a dead
    server would mean one more wait per stage. A run whose model is gone ends at once, and
    the CLI prints this one line (it names the server and the limit that ran out).
    """
