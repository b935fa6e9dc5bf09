"""Security headers on every dashboard response, and the same-origin check of state-changing requests."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def content_security_policy(frame_ancestors: tuple[str, ...] = ()) -> str:
    """The dashboard's policy; framing is refused unless a share link lists the origins that may frame it."""
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        f"font-src 'self'; form-action 'self'; frame-ancestors {ancestors}; base-uri 'none'"
    )


CONTENT_SECURITY_POLICY = content_security_policy()
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # same-origin rather than no-referrer: browsers send "Origin: null" with form posts under no-referrer.
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")
# Routes any website may call or embed: they keep their own headers.
PUBLIC_PATHS = frozenset({"/api/event", "/api/events", "/js/script.js"})


def is_https(scope: Scope, public_url: str) -> bool:
    """True when the dashboard is reached over HTTPS (directly, or as TELLER_PUBLIC_URL says)."""
    return scope.get("scheme") == "https" or public_url.startswith("https://")


class SecurityHeaders:
    """ASGI middleware adding the headers above to every response except the public ingest routes."""

    def __init__(self, app: ASGIApp, public_url: str = "") -> None:
        self.app = app
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        extra = HEADERS + ((HSTS,) if is_https(scope, self.public_url) else ())

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                if b"content-security-policy" in names:
                    # A response with a policy of its own (a share link that may be framed) sets frame-ancestors;
                    # X-Frame-Options has no value that allows a list of origins, so it is left out.
                    names.add(b"x-frame-options")
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)


_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def _origin(scheme: str, netloc: str) -> str:
    """scheme://host[:port] in lower case, without the scheme's default port (browsers omit it in Origin)."""
    scheme, netloc = scheme.lower(), netloc.lower()
    return f"{scheme}://{netloc.removesuffix(_DEFAULT_PORTS.get(scheme, '@'))}"


def same_origin(headers: Any, public_url: str, scheme: str) -> bool:
    """True when a state-changing request comes from a page of this Teller.

    The Origin (else the Referer) must equal TELLER_PUBLIC_URL's scheme and host when it is set, else the
    request's own scheme and Host header: a Host header can be chosen by whoever sends the request, so
    with a public URL configured it is never trusted.
    """
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    source = headers.get("origin") or headers.get("referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    if not parts.scheme or not parts.netloc:
        return False
    if public_url:
        public = urlsplit(public_url)
        expected = _origin(public.scheme, public.netloc)
    else:
        expected = _origin(scheme, headers.get("host", ""))
    return _origin(parts.scheme, parts.netloc) == expected
