"""The test site: a few pages on 127.0.0.1, with Teller's snippet or the npm Plausible tracker by host name."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SITE_DIR = Path(__file__).resolve().parent / "site"
TRACKER_JS = Path(__file__).resolve().parent / "node_modules" / "@plausible-analytics" / "tracker" / "plausible.js"
PAGES = {"/": "index.html", "/about": "about.html", "/spa/": "spa.html", "/spa/settings": "spa.html"}


def snippet_tag(domain: str, teller: str) -> str:
    """Teller's documented embed code."""
    return f'<script defer data-domain="{domain}" src="{teller}/js/script.js"></script>'


def npm_tag(domain: str, teller: str) -> str:
    """The npm tracker as a bundler would include it, configured for Teller's endpoint."""
    return (
        '<script type="module">import { init } from "/plausible.js";'
        f'init({{domain: "{domain}", endpoint: "{teller}/api/event", outboundLinks: true, fileDownloads: true}});'
        "</script>"
    )


class SiteServer:
    """Serves the pages; the Host header's first label picks the tracker (snippet.* or npm.*)."""

    def __init__(self, teller: str) -> None:
        self.teller = teller
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="e2e-site", daemon=True)

    def page(self, path: str, host: str) -> bytes | None:
        """The HTML of a page for a host, or None."""
        name = PAGES.get(path)
        if name is None:
            return None
        domain = host.split(":", 1)[0]
        if domain.startswith("npm."):
            tag, prefix = npm_tag(domain, self.teller), "plausible"
        else:
            tag, prefix = snippet_tag(domain, self.teller), "teller"
        html = (SITE_DIR / name).read_text(encoding="utf-8")
        return html.replace("{{TRACKER}}", tag).replace("{{PREFIX}}", prefix).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                if path == "/plausible.js":
                    body, kind = TRACKER_JS.read_bytes(), "text/javascript"
                else:
                    body, kind = site.page(path, self.headers.get("Host", "")), "text/html; charset=utf-8"
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
