"""Parsers of server access log lines; the client address is cut to its prefix inside the parser.

Each parser turns one line into a LogLine whose only address is the /24 (IPv4) or /48 (IPv6) prefix
from collector/ingest/client_ip.py; the full address is a local of the parse and is dropped with it.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from collector.ingest.client_ip import truncate_ip

MAX_LINE = 16_384  # longer lines are skipped as unparsed (Apache's default LimitRequestLine is 8190)

_MONTHS = {
    name: number
    for number, name in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
# The unrolled form of "(?:[^"\\]|\\.)*": one step per run of plain characters, not per character
# (the alternation took ~80 us of a line's ~200 us).
_QUOTED = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
# host ident user [time] "request" status size ["referrer" "user agent"]
_CLF = re.compile(r"^(\S+) \S+ \S+ \[([^\]]+)\] " + _QUOTED + r" (\d{3}) (\S+)(?: " + _QUOTED + " " + _QUOTED + ")?")
_VHOST = re.compile(r"^(\S+?)(?::\d+)? (.*)$")


class Unparsed(ValueError):
    """The line is not in the format, or its address or time is broken; the message is the skip reason."""


@dataclass(slots=True)
class LogLine:
    """What Teller reads from one access log line: no full address anywhere."""

    ts: int
    ip_prefix: str
    method: str
    target: str
    status: int
    size: str
    referrer: str
    user_agent: str
    host: str = ""


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm; 10x datetime's speed)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def clf_time(text: str) -> int:
    """Unix time of an access log time, 10/Oct/2000:13:55:36 -0700."""
    try:
        day, month, year = int(text[0:2]), _MONTHS[text[3:6]], int(text[7:11])
        hour, minute, second = int(text[12:14]), int(text[15:17]), int(text[18:20])
        zone = text[21:26]
        offset = (int(zone[1:3]) * 3600 + int(zone[3:5]) * 60) * (-1 if zone[0] == "-" else 1)
    except (KeyError, ValueError, IndexError):
        raise Unparsed("unparsed") from None
    return _days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset


def _unescape(text: str) -> str:
    """Undo Apache's and nginx's \\" and \\\\ escapes; \\xHH stays as written."""
    return text.replace('\\"', '"').replace("\\\\", "\\") if "\\" in text else text


def _prefix(address: str) -> str:
    """The address's prefix, or Unparsed (a host name, as with HostnameLookups, has none)."""
    prefix = truncate_ip(address)
    if prefix is None:
        raise Unparsed("invalid_address")
    return prefix


def _clf(line: str, host: str = "") -> LogLine:
    """A Common or Combined Log Format line."""
    match = _CLF.match(line)
    if match is None:
        raise Unparsed("unparsed")
    address, when, request, status, size, referrer, agent = match.groups()
    prefix = _prefix(address)
    del address
    method, _, rest = request.partition(" ")
    target = (
        rest.rpartition(" ")[0] if rest.endswith(("HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/2", "HTTP/3")) else rest
    )
    referrer = _unescape(referrer or "")
    return LogLine(
        clf_time(when), prefix, method, _unescape(target), int(status), size,
        "" if referrer == "-" else referrer, _unescape(agent or ""), host,
    )  # fmt: skip


def parse_combined(line: str) -> LogLine:
    """Apache/nginx combined: %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"."""
    parsed = _clf(line)
    if not parsed.user_agent and '"' not in line[line.rfind(" ") :]:
        raise Unparsed("unparsed")
    return parsed


def parse_common(line: str) -> LogLine:
    """Common Log Format: %h %l %u %t "%r" %>s %b (no referrer, no user agent)."""
    return _clf(line)


def parse_vhost_combined(line: str) -> LogLine:
    """Apache vhost_combined: %v:%p followed by a combined line."""
    match = _VHOST.match(line)
    if match is None:
        raise Unparsed("unparsed")
    parsed = _clf(match.group(2), match.group(1).lower())
    return parsed


def _header(headers: object, name: str) -> str:
    """First value of a header in Caddy's {"Name": ["value"]} form."""
    if not isinstance(headers, dict):
        return ""
    values = headers.get(name)
    return values[0] if isinstance(values, list) and values and isinstance(values[0], str) else ""


def parse_caddy_json(line: str) -> LogLine:
    """Caddy's JSON access log (http.log.access): one object a line."""
    try:
        entry = orjson.loads(line)
        request = entry["request"]
        address = request.get("client_ip") or request["remote_ip"]
        prefix = _prefix(address)
        del address
        headers = request.get("headers")
        return LogLine(
            int(float(entry["ts"])), prefix, str(request["method"]), str(request["uri"]), int(entry["status"]),
            str(entry.get("size", "")), _header(headers, "Referer"), _header(headers, "User-Agent"),
            str(request.get("host", "")).lower().partition(":")[0],
        )  # fmt: skip
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise Unparsed("unparsed") from None


PARSERS: dict[str, Callable[[str], LogLine]] = {
    "combined": parse_combined,
    "common": parse_common,
    "vhost-combined": parse_vhost_combined,
    "caddy-json": parse_caddy_json,
}
