"""Jinja2 templates and the static files they link to (served by Teller itself, cache-busted by content hash)."""

import hashlib
import mimetypes
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from dashboard.web import formatting, i18n
from dashboard.web.labels import role_label

PACKAGE_DIR = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


class StaticFiles:
    """The files of dashboard/static, read once, with ETags; URLs carry a hash so they can be cached long."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.files: dict[str, tuple[bytes, str, str]] = {}
        for path in sorted(directory.iterdir()):
            if path.suffix in STATIC_TYPES:
                body = path.read_bytes()
                kind = STATIC_TYPES[path.suffix] or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                self.files[path.name] = (body, kind + "; charset=utf-8", hashlib.sha256(body).hexdigest()[:16])

    def url(self, name: str) -> str:
        """The file's URL with its content hash."""
        return f"/static/{name}?v={self.files[name][2]}"

    def response(self, request: Request, name: str) -> Response:
        """200 with the file, 304 when the browser has it, 404 for anything else."""
        if name not in self.files:
            return Response("not found", status_code=404, media_type="text/plain")
        body, kind, digest = self.files[name]
        headers = {"ETag": f'"{digest}"', "Cache-Control": "public, max-age=31536000, immutable"}
        if request.headers.get("if-none-match") == f'"{digest}"':
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=kind, headers=headers)


def build_environment(static: StaticFiles) -> Environment:
    """The template environment, HTML-escaping everything by default."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Newstyle: _("%(n)s visitors", n=3) fills its placeholders and escapes them; the text follows the
    # language LanguageMiddleware chose for the request.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["static"] = static.url
    env.globals["languages"] = i18n.LANGUAGES
    env.globals["role_label"] = role_label
    env.filters["count"] = formatting.count
    env.filters["metric"] = lambda value, name: formatting.metric(name, value)
    env.filters["percent"] = formatting.percent
    env.filters["day"] = formatting.day
    env.filters["full_date"] = formatting.full_date
    return env


def html(env: Environment, template: str, status: int = 200, **context: Any) -> Response:
    """A rendered page, never cached (it shows private numbers)."""
    context.setdefault("lang", i18n.current())
    body = env.get_template(template).render(**context)
    return Response(body, status_code=status, media_type="text/html", headers={"Cache-Control": "no-store"})
