"""How numbers and dates look on the dashboard, in the reader's language (CLDR through Babel).

In bokmål a count is "1 346", a rate "45,7 %", a day "27. okt."; in English "1,346", "45.7%", "Oct 27".
"""

import datetime as dt
from typing import Any

from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal, format_percent

from dashboard.web.i18n import _, babel_locale, current

DASH = "–"


def count(value: Any) -> str:
    """An integer with the language's thousands separator; a dash for a missing value."""
    if value is None:
        return DASH
    return format_decimal(int(value), locale=babel_locale(current()))


def decimal(value: Any, digits: int = 2) -> str:
    """A number with exactly `digits` decimals, in the language's notation."""
    if value is None:
        return DASH
    return format_decimal(float(value), format="#,##0." + "0" * digits, locale=babel_locale(current()))


def percent(value: Any) -> str:
    """A percentage given in percent (45.7 → "45,7 %" / "45.7%"), as many decimals as it has (at most one)."""
    if value is None:
        return DASH
    locale = babel_locale(current())
    # The language's own pattern ("#,##0 %" in bokmål, with its space), allowed one decimal.
    pattern = locale.percent_formats[None].pattern.replace("0", "0.#", 1)
    return format_percent(round(float(value), 1) / 100, format=pattern, locale=locale)


def day(value: dt.date) -> str:
    """A day without its year: "27. okt." / "Oct 27"."""
    return format_skeleton("MMMd", value, locale=babel_locale(current()))


def month(value: dt.date) -> str:
    """A month and its year: "okt. 2026" / "Oct 2026"."""
    return format_skeleton("yMMM", value, locale=babel_locale(current()))


def full_date(value: dt.date) -> str:
    """A day with its year: "27. okt. 2026" / "Oct 27, 2026"."""
    return format_date(value, "medium", locale=babel_locale(current()))


def date_range(first: dt.date, last: dt.date) -> str:
    """Two days as a range, each with its year."""
    return f"{full_date(first)} – {full_date(last)}"


def duration(seconds: Any) -> str:
    """Seconds as 45s, 3m 05s or 1h 02m (units in the reader's language)."""
    if seconds is None:
        return DASH
    total = round(float(seconds))
    if total < 60:
        return _("%(s)ss", s=total)
    if total < 3600:
        return _("%(m)sm %(s)ss", m=total // 60, s=str(total % 60).zfill(2))
    return _("%(h)sh %(m)sm", h=total // 3600, m=str(total % 3600 // 60).zfill(2))


def metric(name: str, value: Any) -> str:
    """A metric value in its unit."""
    if value is None:
        return DASH
    if name in ("bounce_rate", "conversion_rate", "group_conversion_rate", "percentage"):
        return percent(value)
    if name == "visit_duration":
        return duration(value)
    if name == "views_per_visit":
        return decimal(value)
    return count(value)


def change(current: Any, previous: Any) -> int | None:
    """Change from previous to current in whole percent; None when there is nothing to compare with."""
    if current is None or previous is None or not previous:
        return None
    return round((float(current) - float(previous)) / float(previous) * 100)


# Metrics where a rise is bad news (shown in the warning colour).
LOWER_IS_BETTER = frozenset({"bounce_rate"})
