"""DNT: 1 and Sec-GPC: 1 drop events on sites that honour them (every site unless turned off)."""

import pytest
from harness import FIREFOX, Harness

from storage.sites import list_sites, set_respect_dnt

SITE = "private.test"


@pytest.mark.parametrize("header", [{"DNT": "1"}, {"Sec-GPC": "1"}])
def test_signals_drop_events_by_default(harness: Harness, header: dict[str, str]) -> None:
    harness.add_site(SITE)
    body = {"n": "pageview", "u": f"https://{SITE}/", "d": SITE}
    response = harness.post_event(body, **header)
    assert response.status_code == 202
    assert response.headers["X-Teller-Dropped"] == "do_not_track"
    assert harness.post_event(body, DNT="0").headers.get("X-Teller-Dropped") is None
    harness.flush()
    assert harness.store.query("SELECT count() FROM events")[0][0] == 1


def test_a_site_can_turn_the_setting_off(harness: Harness) -> None:
    harness.add_site(SITE)
    assert list_sites(harness.store)[0].respect_dnt is True
    set_respect_dnt(harness.store, SITE, False)
    harness.teller.state.refresh()
    assert list_sites(harness.store)[0].respect_dnt is False
    harness.add_site(SITE, "Europe/Oslo")  # changing the time zone keeps the setting
    assert list_sites(harness.store)[0].respect_dnt is False
    response = harness.post_event({"n": "pageview", "u": f"https://{SITE}/", "d": SITE}, DNT="1")
    assert response.headers.get("X-Teller-Dropped") is None
    batch = harness.client().post(
        "/api/events",
        json=[{"n": "pageview", "u": f"https://{SITE}/a", "d": SITE}],
        headers={"User-Agent": FIREFOX, "Sec-GPC": "1"},
    )
    assert batch.json()["accepted"] == 1
    set_respect_dnt(harness.store, SITE, True)
    harness.teller.state.refresh()
    assert (
        harness.post_event({"n": "pageview", "u": f"https://{SITE}/", "d": SITE}, DNT="1").headers["X-Teller-Dropped"]
        == "do_not_track"
    )
