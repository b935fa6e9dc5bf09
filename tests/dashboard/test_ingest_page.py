"""/admin/ingest: the share of received events per drop reason, for admins only."""

import re

from harness import FIREFOX, GOOGLEBOT, Harness
from web_login import user_client

from dashboard.web.ingest_routes import shares

SITE = "ingest.test"


def test_shares_are_of_every_received_event() -> None:
    received, rows = shares(6, {"bot": 3, "referrer_spam": 1})
    assert received == 10
    assert [(row.reason, row.count, row.share) for row in rows] == [
        ("stored", 6, 0.6),
        ("bot", 3, 0.3),
        ("referrer_spam", 1, 0.1),
    ]
    received, rows = shares(0, {})
    assert received == 0 and [(row.reason, row.count, row.share) for row in rows] == [("stored", 0, 0.0)]


def test_admin_sees_counts_and_shares_per_reason(harness: Harness) -> None:
    harness.add_site(SITE)
    body = {"n": "pageview", "u": f"https://{SITE}/", "d": SITE}
    for _ in range(5):
        harness.post_event(body, user_agent=FIREFOX)
    for _ in range(3):
        harness.post_event(body, user_agent=GOOGLEBOT)
    harness.post_event({**body, "r": "https://semalt.com/"})
    harness.post_event({**body, "d": "unregistered.test"})
    admin = user_client(harness, "admin@example.com", "admin")
    page = admin.get("/admin/ingest")
    assert page.status_code == 200
    assert 'href="/admin/ingest" aria-current="page"' in page.text
    row = r'<code>(\w+)</code></td><td[^>]*>[^<]*</td><td class="num">([\d,]+)</td><td class="num">([\d.]+)%</td>'
    cells = {reason: (count, share) for reason, count, share in re.findall(row, page.text)}
    assert cells == {
        "stored": ("5", "50"),
        "bot": ("3", "30"),
        "referrer_spam": ("1", "10"),
        "unknown_site": ("1", "10"),
    }
    # The same counters as /metrics.
    metrics = harness.client().get("/metrics", headers={"Authorization": f"Bearer {harness.api_key}"})
    assert 'teller_events_dropped_total{reason="referrer_spam"} 1.0' in metrics.text


def test_viewer_gets_403_and_no_link(harness: Harness) -> None:
    viewer = user_client(harness, "viewer@example.com", "viewer")
    assert viewer.get("/admin/ingest").status_code == 403
    assert "/admin/ingest" not in viewer.get("/sites").text
    assert harness.client().get("/admin/ingest", follow_redirects=False).status_code == 303
