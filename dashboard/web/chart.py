"""The time-series chart as an SVG drawn here: a line and area for the period, a dashed line for the one before."""

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from dashboard.translatable import N_
from dashboard.web.formatting import day as format_day
from dashboard.web.formatting import metric as format_metric
from dashboard.web.formatting import month as format_month
from dashboard.web.i18n import _

WIDTH, HEIGHT = 800, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 30
X_LABELS = 6
_FRACTIONAL = frozenset({"bounce_rate", "views_per_visit", "visit_duration"})
INTERVAL_LABELS = {"time:hour": N_("per hour"), "time:day": N_("per day"), "time:month": N_("per month")}


def interval_label(interval: str) -> str:
    """ "per day" (or hour, month) in the reader's language."""
    return _(INTERVAL_LABELS.get(interval, "per day"))


def nice_max(value: float) -> float:
    """A round axis maximum at or above value (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def bucket_label(bucket: str, interval: str) -> str:
    """Short x-axis label in the reader's language: 14:00, Nov 20 or Nov 2026 ("20. nov.", "nov. 2026")."""
    if interval == "time:hour":
        return bucket[11:16]
    day = dt.date.fromisoformat(bucket[:10])
    return format_month(day) if interval == "time:month" else format_day(day)


def _x(index: int, count: int) -> float:
    plot = WIDTH - LEFT - RIGHT
    return LEFT + (plot / 2 if count == 1 else plot * index / (count - 1))


def _y(value: float, top: float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return TOP + plot - plot * (value / top if top else 0)


def _line(values: Sequence[float], top: float) -> str:
    return " ".join(f"{'M' if i == 0 else 'L'}{_x(i, len(values)):.1f},{_y(v, top):.1f}" for i, v in enumerate(values))


def render_chart(
    series: Sequence[tuple[str, Any]],
    previous: Sequence[tuple[str, Any]] | None,
    metric: str,
    metric_label: str,
    interval: str,
) -> Markup:
    """The chart's SVG markup, labelled for screen readers (a table of the same numbers sits beside it)."""
    values = [float(v or 0) for _, v in series]
    before = [float(v or 0) for _, v in previous] if previous else []
    top = nice_max(max(values + before + [0]))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        'focusable="false">',
        f'<title id="chart-title">{escape(metric_label)} {escape(interval_label(interval))}</title>',
    ]
    if series:
        peak = max(range(len(values)), key=values.__getitem__)
        description = _(
            "%(count)s points from %(first)s to %(last)s; highest %(peak)s at %(when)s.",
            count=len(values),
            first=bucket_label(series[0][0], interval),
            last=bucket_label(series[-1][0], interval),
            peak=format_metric(metric, series[peak][1]),
            when=bucket_label(series[peak][0], interval),
        )
    else:
        description = _("No data.")
    parts.append(f'<desc id="chart-desc">{escape(description)}</desc>')
    for step in range(5):
        value = top * step / 4
        y = _y(value, top)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        label = format_metric(metric, value if metric in _FRACTIONAL else round(value))
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    count = len(values)
    if count <= 2 * X_LABELS:
        shown = list(range(0, count, 1 if count <= X_LABELS + 2 else 2))
    else:
        shown = sorted({round(i * (count - 1) / (X_LABELS - 1)) for i in range(X_LABELS)})
    for index in shown if count else []:
        x = _x(index, count)
        anchor = "start" if index == 0 and count > 1 else "end" if index == count - 1 and count > 1 else "middle"
        label = bucket_label(series[index][0], interval)
        parts.append(f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">{escape(label)}</text>')
    if before:
        parts.append(f'<path class="previous" d="{_line(before, top)}"/>')
    if values:
        line = _line(values, top)
        base = _y(0, top)
        area = f"{line} L{_x(count - 1, count):.1f},{base:.1f} L{_x(0, count):.1f},{base:.1f} Z"
        parts.append(f'<path class="area" d="{area}"/>')
        parts.append(f'<path class="line" d="{line}"/>')
        for index, (bucket, value) in enumerate(series):
            point = f"{bucket_label(bucket, interval)}: {format_metric(metric, value)}"
            parts.append(
                f'<circle class="point" cx="{_x(index, count):.1f}" cy="{_y(values[index], top):.1f}" r="3">'
                f"<title>{escape(point)}</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
