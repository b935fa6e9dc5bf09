"""ASGI middleware that replaces the client address with its /24 or /48 prefix before anything else runs."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from collector.ingest.client_ip import TrustedProxies, truncate_ip

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

_FORWARDED_HEADERS = (b"x-forwarded-for", b"x-real-ip", b"forwarded")


class ClientPrefixMiddleware:
    """Rewrites scope["client"] in place to (prefix, 0) and removes forwarding headers.

    The scope dict is shared with the server, so uvicorn's access log prints the prefix too;
    from here on no part of Teller can see the full address.
    """

    def __init__(self, app: ASGIApp, trusted_proxies: TrustedProxies) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            peer_ip = peer[0] if peer else None
            forwarded_for = None
            if self.trusted_proxies:
                for name, value in scope["headers"]:
                    if name == b"x-forwarded-for":
                        forwarded_for = value.decode("latin-1")
                        break
            client_ip = self.trusted_proxies.client_ip(peer_ip, forwarded_for)
            prefix = truncate_ip(client_ip) if client_ip else None
            scope["client"] = (prefix or "0.0.0.0", 0)
            if any(name in _FORWARDED_HEADERS for name, _ in scope["headers"]):
                scope["headers"] = [(n, v) for n, v in scope["headers"] if n not in _FORWARDED_HEADERS]
        await self.app(scope, receive, send)
