"""axe-core in a Playwright page: WCAG 2.1 A and AA violations, one line per failing node."""

from pathlib import Path

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page: Page, axe_source: str) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now, one line per failing node."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)  # through the DevTools protocol: the page's CSP does not apply
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
        ".then(r => r.violations.flatMap(v => v.nodes.map(n => v.id + ' ' + n.target.join(' ') + ': '"
        " + n.failureSummary.replace(/\\s+/g, ' '))))",
        WCAG_TAGS,
    )
    return list(found)
