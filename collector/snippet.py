"""GET /js/script.js: the tracking snippet, cacheable, revalidated by ETag, gzipped when accepted."""

import gzip
import hashlib
from pathlib import Path

from fastapi import APIRouter, Request, Response

SNIPPET_PATH = Path(__file__).resolve().parent / "static" / "script.js"
# Browsers revalidate after an hour, so a new snippet reaches every visitor within one.
CACHE_CONTROL = "public, max-age=3600"


class Snippet:
    """The snippet's bytes, gzipped bytes and their ETags, computed once."""

    def __init__(self, path: Path = SNIPPET_PATH) -> None:
        self.plain = path.read_bytes()
        self.gzipped = gzip.compress(self.plain, compresslevel=9, mtime=0)
        digest = hashlib.sha256(self.plain).hexdigest()[:20]
        self.etag = f'"{digest}"'
        self.gzip_etag = f'"{digest}-gz"'

    def response(self, request: Request) -> Response:
        """200 with the snippet, or 304 when the browser's copy is current."""
        use_gzip = "gzip" in request.headers.get("accept-encoding", "").lower()
        etag = self.gzip_etag if use_gzip else self.etag
        headers = {
            "ETag": etag,
            "Cache-Control": CACHE_CONTROL,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "cross-origin",
        }
        presented = {tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")}
        if presented & {self.etag, self.gzip_etag, "*"}:
            return Response(status_code=304, headers=headers)
        if use_gzip:
            headers["Content-Encoding"] = "gzip"
        body = b"" if request.method == "HEAD" else (self.gzipped if use_gzip else self.plain)
        response = Response(body, media_type="text/javascript; charset=utf-8", headers=headers)
        if request.method == "HEAD":
            response.headers["Content-Length"] = str(len(self.gzipped if use_gzip else self.plain))
        return response


def build_snippet_router(snippet: Snippet | None = None) -> APIRouter:
    """The route serving the snippet."""
    router = APIRouter()
    served = snippet or Snippet()

    @router.api_route("/js/script.js", methods=["GET", "HEAD"], include_in_schema=False)
    async def script(request: Request) -> Response:
        return served.response(request)

    return router
