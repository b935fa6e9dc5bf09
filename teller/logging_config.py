"""Log configuration for `teller serve`: plain text or one JSON object per line.

Client addresses in access lines come from the request scope, which ClientPrefixMiddleware has
already cut to the /24 or /48 prefix.
"""

import json
import logging
from typing import Any


class JsonFormatter(logging.Formatter):
    """One JSON object per record; access records get their fields split out."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, version, status = record.args
            entry.update(client=client, method=method, path=path, http=version, status=status)
            entry["message"] = f"{method} {path} {status}"
        else:
            entry["message"] = record.getMessage()
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_config(log_format: str, level: str) -> dict[str, Any]:
    """A logging.config dict for uvicorn and Teller's own loggers."""
    if log_format == "json":
        formatters = {"default": {"()": JsonFormatter}, "access": {"()": JsonFormatter}}
    else:
        formatters = {
            "default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "access": {
                "format": '%(asctime)s %(levelname)s access: %(client_addr)s "%(request_line)s" %(status_code)s',
                "()": "uvicorn.logging.AccessFormatter",
                "use_colors": False,
            },
        }
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "handlers": {"default": {**handler, "formatter": "default"}, "access": {**handler, "formatter": "access"}},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "teller": {"handlers": ["default"], "level": level.upper(), "propagate": False},
        },
    }
