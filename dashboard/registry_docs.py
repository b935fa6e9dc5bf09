"""docs/stats-api.md's tables of dimensions and metrics, written from the registry.

python -m dashboard.registry_docs    # prints the section that stands between the markers in the doc
"""

from dashboard.registry import DIMENSIONS, EVENT, PUBLIC_METRICS, TIME_DIMENSIONS

START = "<!-- registry tables: written by `python -m dashboard.registry_docs`; edit dashboard/registry.py -->"
END = "<!-- end of registry tables -->"

_KINDS = {"event": "events", "visit": "visits", "derived": "other metrics", "search": "search_terms only"}


def _sources(name: str) -> str:
    """Which rollups can answer a dimension, as the planner decides."""
    declared = DIMENSIONS[name]
    found = []
    if declared.event_rollup:
        found.append("event rollups")
    if declared.visit_rollup:
        found.append("visit rollups")
    return ", ".join(found) or "raw events and visits"


def tables() -> str:
    """The markdown section, markers included."""
    lines = [
        START,
        "",
        "| Dimension | Scope | Label | Empty value shown as | Rollups |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, declared in DIMENSIONS.items():
        scope = "event" if declared.scope == EVENT else "visit (its entry)"
        lines.append(f"| `{name}` | {scope} | {declared.label} | {declared.empty} | {_sources(name)} |")
    lines.append("| `event:props:<key>` | event | the property's value | (not set) | raw events and visits |")
    for name in TIME_DIMENSIONS:
        lines.append(f"| `{name}` | time | bucket start in the site's time zone | | every source |")
    lines += ["", "| Metric | Counted from | Label |", "| --- | --- | --- |"]
    for name, metric in PUBLIC_METRICS.items():
        lines.append(f"| `{name}` | {_KINDS.get(metric.kind, metric.kind)} | {metric.label} |")
    lines += ["", END]
    return "\n".join(lines)


if __name__ == "__main__":
    print(tables())
