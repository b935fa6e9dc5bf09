"""The e-mail report of a site for a week or a month: the numbers through the dashboard's query functions.

Every figure comes from run_kpis and run_panel, which run Stats API queries as POST /api/v2/query does,
so a report shows what the API answers for the same period.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, select_autoescape

from dashboard.panels import GOALS_PANEL, KPI_LABELS, PANELS_BY_NAME, View, run_kpis, run_panel
from dashboard.periods import Period
from dashboard.translatable import N_
from dashboard.web import formatting, i18n
from dashboard.web.i18n import _
from dashboard.web.labels import display_value
from dashboard.web.render import TEMPLATES_DIR
from storage.dates import month_start
from storage.goals import list_goals
from storage.store import Store

REPORT_METRICS = ("visitors", "pageviews", "bounce_rate", "visit_duration")
REPORT_PANELS = ("pages", "sources")
TOP_ROWS = 10
KIND_WORDS = {"weekly": N_("weekly"), "monthly": N_("monthly")}


def report_period(kind: str, today: dt.date) -> tuple[Period, Period]:
    """The last complete week (Monday to Sunday) or month before today, and the one before it (labels translated)."""
    if kind == "weekly":
        last = today - dt.timedelta(days=today.isoweekday())
        first = last - dt.timedelta(days=6)
        before = Period("custom", _("Previous week"), first - dt.timedelta(days=7), first - dt.timedelta(days=1))
        label = _("Week %(week)s, %(year)s", week=first.isocalendar()[1], year=first.year)
        return Period("custom", label, first, last), before
    if kind == "monthly":
        first = month_start(today, 1)
        last = today.replace(day=1) - dt.timedelta(days=1)
        previous_first = month_start(first, 1)
        before = Period("custom", _("Previous month"), previous_first, first - dt.timedelta(days=1))
        label = format_date(first, "LLLL y", locale=i18n.babel_locale(i18n.current()))
        return Period("custom", label, first, last), before
    raise ValueError(f"no report of kind {kind!r}")


@dataclass
class Figure:
    """One headline number with the previous period's and the change in whole percent."""

    metric: str
    label: str
    value: Any
    before: Any
    change: int | None

    @property
    def shown(self) -> str:
        return formatting.metric(self.metric, self.value)

    @property
    def shown_before(self) -> str:
        return formatting.metric(self.metric, self.before)

    @property
    def shown_change(self) -> str:
        if self.change is None:
            # No percentage from zero; the earlier value still says what it was compared with.
            return _("no earlier data") if self.before is None else _("vs %(before)s", before=self.shown_before)
        change = f"{'+' if self.change > 0 else ''}{self.change}%"
        return _("%(change)s vs %(before)s", change=change, before=self.shown_before)


@dataclass(frozen=True)
class GoalLine:
    """A goal's conversions in the period: the Goal conversions panel's row (the API's event:goal breakdown)."""

    name: str
    visitors: int
    events: int
    conversion_rate: float

    @property
    def shown_rate(self) -> str:
        return formatting.metric("conversion_rate", self.conversion_rate)


@dataclass
class Report:
    """Everything one report e-mail shows."""

    site: str
    kind: str
    period: Period
    previous: Period
    figures: list[Figure]
    tables: list[tuple[str, list[tuple[str, Any]]]] = field(default_factory=list)
    # None when the site has no goals (the e-mail then has no goals section).
    goals: list[GoalLine] | None = None

    @property
    def subject(self) -> str:
        return _(
            "%(site)s: %(kind)s report, %(label)s (%(first)s – %(last)s)",
            site=self.site,
            kind=self.kind_word,
            label=self.period.label,
            first=self.period.first,
            last=self.period.last,
        )

    @property
    def kind_word(self) -> str:
        """The kind ("weekly", "monthly") in the current language."""
        return _(KIND_WORDS[self.kind])


def build_report(store: Store, site: str, timezone: str, kind: str, today: dt.date) -> Report:
    """The report of the last complete period of a kind, computed as the dashboard and the API compute it."""
    period, previous = report_period(kind, today)
    view = View(site, timezone, period)
    now = run_kpis(store, view)
    before = run_kpis(store, view, previous)
    figures = [
        Figure(name, KPI_LABELS[name], now[name], before[name], formatting.change(now[name], before[name]))
        for name in REPORT_METRICS
    ]
    tables = []
    for name in REPORT_PANELS:
        panel = PANELS_BY_NAME[name]
        result = run_panel(store, panel, view, TOP_ROWS)
        rows = [
            (display_value(panel.dimension, value, panel.empty_label, 3), metrics[0]) for value, metrics in result.rows
        ]
        tables.append((panel.title, rows))
    goals = None
    if list_goals(store, site):
        result = run_panel(store, PANELS_BY_NAME[GOALS_PANEL], view, TOP_ROWS)
        goals = [GoalLine(str(name), *metrics) for name, metrics in result.rows]
    return Report(site, kind, period, previous, figures, tables, goals)


def report_environment() -> Environment:
    """Templates of the e-mails (HTML escaped, plain text as written)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # In the language the sender activated for the recipient (dashboard/web/i18n.py).
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["language"] = i18n.current
    env.filters["count"] = formatting.count
    return env


def render_report(env: Environment, report: Report, dashboard_url: str, unsubscribe_url: str) -> tuple[str, str]:
    """(plain text, HTML) of a report e-mail."""
    context = {"report": report, "dashboard_url": dashboard_url, "unsubscribe_url": unsubscribe_url}
    return env.get_template("report_email.txt").render(**context), env.get_template("report_email.html").render(
        **context
    )


def render_spike(
    env: Environment, site: str, visitors: int, threshold: int, dashboard_url: str, unsubscribe_url: str
) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a traffic-spike alert."""
    context = {
        "site": site,
        "visitors": visitors,
        "threshold": threshold,
        "dashboard_url": dashboard_url,
        "unsubscribe_url": unsubscribe_url,
    }
    subject = _(
        "%(site)s: %(visitors)s visitors in the last hour (alert above %(threshold)s)",
        site=site,
        visitors=formatting.count(visitors),
        threshold=formatting.count(threshold),
    )
    return (
        subject,
        env.get_template("spike_email.txt").render(**context),
        env.get_template("spike_email.html").render(**context),
    )
