"""Small stand-ins shared by the tests."""

from __future__ import annotations

from skills.embed import HashEmbedder


class FastEmbedder(HashEmbedder):
    """Stands in for MiniLM in `open_library`, so CLI tests need no model (whatever
    arguments the real embedder is built with)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()
