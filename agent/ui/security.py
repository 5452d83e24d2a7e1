"""Who may talk to the UI, and which requests may change data.

Three checks, in order, on every request:

1. Host: when the UI listens on a loopback address without a token, the `Host` header
   must name a loopback host (127.0.0.1, localhost, ::1). A web page on another site
   that re-points its own domain at 127.0.0.1 (DNS rebinding) is refused here.
2. Token: when a token is set (required to listen beyond loopback), every request must
   carry it: `Authorization: Bearer T`, the `X-Skillgrove-Token` header, or the cookie
   that `?token=T` sets (HttpOnly, SameSite=Strict) on the first visit.
3. Writes: a request that changes data (any method but GET/HEAD/OPTIONS) must come from
   the UI's own pages (its `Origin`, else `Sec-Fetch-Site: same-origin`, else its
   `Referer`, matches the URL it was sent to), or carry the token in a header (a script
   of the user's own; a page on another site cannot read the token to send it).

No route executes skill code; storing a correction only writes data.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

TOKEN_COOKIE = "skillgrove_token"
TOKEN_HEADER = "x-skillgrove-token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str) -> bool:
    """True for an address or name that only this machine can reach."""
    h = host.strip().lower().strip("[]")
    return h in {"localhost", "::1"} or h.startswith("127.")


def host_name(header: str) -> str:
    """The host part of a `Host` header value (no port), lowercase."""
    h = header.strip().lower()
    if h.startswith("["):  # [::1]:8000
        return h[: h.find("]") + 1] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


@dataclass(frozen=True)
class Guard:
    """The UI's access rules.

    Args:
        token: the shared secret; None on a loopback-only UI.
        allowed_hosts: host names the `Host` header may name; None accepts any (the
            token then protects the UI).
    """

    token: str | None = None
    allowed_hosts: frozenset[str] | None = LOOPBACK_HOSTS

    @classmethod
    def for_bind(cls, host: str, token: str | None, extra_hosts: Iterable[str] = ()) -> Guard:
        """Rules for a server listening on `host`: a loopback UI without a token checks Host."""
        if token:
            return cls(token, None)
        return cls(None, LOOPBACK_HOSTS | {h.lower() for h in extra_hosts})

    def _match(self, supplied: str | None) -> bool:
        return bool(self.token and supplied) and hmac.compare_digest(
            str(supplied).encode(), self.token.encode()
        )

    def header_token(self, request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return request.headers.get(TOKEN_HEADER)

    def check(self, request: Request) -> Response | None:
        """None when the request may go on, else the response that refuses it."""
        if (
            self.allowed_hosts is not None
            and host_name(request.headers.get("host", "")) not in self.allowed_hosts
        ):
            return PlainTextResponse("unknown host: open the UI at http://127.0.0.1:<port>/", 421)
        explicit = self._match(self.header_token(request))
        if self.token and not explicit:
            query = request.query_params.get("token")
            if query is not None and request.method in SAFE_METHODS:
                if not self._match(query):
                    return PlainTextResponse("bad token", 401)
                # trade the token in the URL for a cookie, and drop it from the address bar
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                url = (
                    request.url.replace_query_params(**dict(rest))
                    if rest
                    else request.url.replace(query="")
                )
                resp = RedirectResponse(str(url), 303)
                resp.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                return resp
            if not self._match(request.cookies.get(TOKEN_COOKIE)):
                return PlainTextResponse(
                    "this UI needs its token: open the URL printed by `skillgrove ui` (…/?token=T)",
                    401,
                )
        if request.method not in SAFE_METHODS and not explicit and not same_origin(request):
            return PlainTextResponse(
                "refused: a request that changes data must come from the UI's own pages", 403
            )
        return None


def same_origin(request: Request) -> bool:
    """True when the browser says the request comes from a page of this same origin."""
    here = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() == here
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}".lower() == here
    return False
