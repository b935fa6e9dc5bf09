"""How numbers look on the dashboard: counts, percentages, durations and changes."""

from typing import Any


def count(value: Any) -> str:
    """An integer with thousands separators; a dash for a missing value."""
    if value is None:
        return "–"
    return f"{int(value):,}"


def duration(seconds: Any) -> str:
    """Seconds as 45s, 3m 05s or 1h 02m."""
    if seconds is None:
        return "–"
    total = round(float(seconds))
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m {total % 60:02d}s"
    return f"{total // 3600}h {total % 3600 // 60:02d}m"


def metric(name: str, value: Any) -> str:
    """A metric value in its unit."""
    if value is None:
        return "–"
    if name == "bounce_rate":
        return f"{float(value):g}%"
    if name == "visit_duration":
        return duration(value)
    if name == "views_per_visit":
        return f"{float(value):.2f}"
    return count(value)


def change(current: Any, previous: Any) -> int | None:
    """Change from previous to current in whole percent; None when there is nothing to compare with."""
    if current is None or previous is None or not previous:
        return None
    return round((float(current) - float(previous)) / float(previous) * 100)


# Metrics where a rise is bad news (shown in the warning colour).
LOWER_IS_BETTER = frozenset({"bounce_rate"})
