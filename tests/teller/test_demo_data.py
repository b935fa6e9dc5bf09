"""`teller demo-data`: exact event counts, rollups fed, labels of the user-agent corpus true to the parser."""

import random

import pytest

from collector.ingest.bots import is_bot
from collector.ingest.useragent import parse_user_agent
from storage.sites import add_site
from storage.store import Store
from teller.demo_data import fill
from teller.demo_pools import VERSIONS, agents

SITE = "demo.test"


@pytest.mark.parametrize("agent", agents(), ids=lambda agent: f"{agent.browser}-{agent.os}-{agent.device}")
def test_every_corpus_label_is_what_the_parser_says(agent) -> None:
    rng = random.Random(7)
    for _ in range(5):
        text = agent.fill(rng)
        assert "{" not in text
        client = parse_user_agent(text)
        assert (client.browser, client.os, client.device) == (agent.browser, agent.os, agent.device), text
        assert not is_bot(text)


def test_placeholders_all_have_release_mixes() -> None:
    used = {part.split("}")[0] for agent in agents() for part in agent.template.split("{")[1:]}
    assert used <= set(VERSIONS)


def test_fill_writes_exactly_the_events_asked_and_feeds_the_rollups(store: Store) -> None:
    add_site(store, SITE)
    now = 1_795_600_000.0
    written = fill(store, SITE, 20_000, 10, seed=3, now=now)
    assert written == 20_000
    count, first, last, visitors = store.query(
        "SELECT count(), toUInt32(min(ts)), toUInt32(max(ts)), uniq(visitor_id) FROM events WHERE site = %(s)s",
        {"s": SITE},
    )[0]
    assert count == 20_000
    assert now - 10 * 86_400 <= first and last <= now
    assert 1_000 < visitors < 20_000
    pageviews = store.query("SELECT count() FROM events WHERE site = %(s)s AND name = 'pageview'", {"s": SITE})[0][0]
    rolled = store.query("SELECT sumMerge(pageviews) FROM site_hourly WHERE site = %(s)s", {"s": SITE})[0][0]
    assert rolled == pageviews > 10_000
    sources = dict(
        store.query("SELECT source_class, count() FROM events WHERE site = %(s)s GROUP BY source_class", {"s": SITE})
    )
    assert {"direct", "search", "social", "other"} <= set(sources)
