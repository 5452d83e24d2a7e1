"""The web UI: `skillgrove ui` serves it; `create_app(home, library=...)` builds it (see `app`)."""
