"""JSON answers of the HTTP API: a body, or an error as {"error": "..."}."""

from typing import Any

import orjson
from starlette.responses import Response


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with the given status."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error answer {"error": message}."""
    return json_response(status, {"error": message}, headers)
