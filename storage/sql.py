"""Client-side substitution of %(name)s parameters with ClickHouse-escaped literals."""

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\0": "\\0", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def quote(value: Any) -> str:
    """Render one Python value as a ClickHouse SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.translate(_STRING_ESCAPES) + "'"
    if isinstance(value, bytes):
        return "'" + "".join(f"\\x{b:02x}" for b in value) + "'"
    if isinstance(value, dt.datetime):
        return "'" + value.strftime("%Y-%m-%d %H:%M:%S") + "'"
    if isinstance(value, dt.date):
        return "'" + value.isoformat() + "'"
    if isinstance(value, list | tuple | set | frozenset):
        # A tuple literal works for IN on both engines; a single item needs the trailing comma form.
        items = [quote(item) for item in value]
        if not items:
            raise ValueError("an empty list cannot be a SQL parameter")
        return "(" + ", ".join(items) + ")"
    raise TypeError(f"cannot use {type(value).__name__} as a SQL parameter")


def substitute(sql: str, params: Mapping[str, Any] | None) -> str:
    """Replace every %(name)s in sql with the quoted parameter; a missing name is an error."""
    if not params:
        return sql

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise KeyError(f"SQL parameter {name!r} was not given")
        return quote(params[name])

    return _PLACEHOLDER.sub(replace, sql)
