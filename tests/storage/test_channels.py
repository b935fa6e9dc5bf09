"""Acquisition channels: Plausible's own test cases, in Python and as SQL on both engines."""

from __future__ import annotations

import pytest

from collector.ingest.referrer import SOURCES_FILE
from storage.channels import PAID_SOURCES, SOURCE_CATEGORIES, channel, channel_sql, source_category
from storage.sql import quote
from storage.store import Store
from storage.value_names import DIRECT_SOURCE

# (source, utm_medium, utm_campaign, utm_source, expected): the @static_tests of Plausible's
# test/plausible/ingestion/acquisition_test.exs, in their order, with referrer_source as the stored source.
# Left out: the two cases where a click id (gclid, msclkid) makes Google or Bing "Paid Search" (Teller stores no
# click id), and "Kagi" and "Microsoft Copilot", whose categories come from a newer custom list than the one
# shipped here (acquisition.ex's lists "copilot", not "microsoft copilot", and no "kagi").
PLAUSIBLE_CASES: list[tuple[str, str, str, str, str]] = [
    ("", "", "", "", "Direct"),
    ("", "", "cross-network", "", "Cross-network"),
    ("", "paid", "shopping", "", "Paid Shopping"),
    ("shopify.com", "paid", "", "", "Paid Shopping"),
    ("shopify", "paid", "", "shopify", "Paid Shopping"),
    ("DuckDuckGo", "paid", "", "", "Paid Search"),
    ("DuckDuckGo", "", "", "", "Organic Search"),  # click_id_param gclid: no effect off Google
    ("DuckDuckGo", "", "", "", "Organic Search"),  # click_id_param msclkid: no effect off Bing
    ("google", "paid", "", "google", "Paid Search"),
    ("TikTok", "paid", "", "", "Paid Social"),
    ("tiktok", "paid", "", "tiktok", "Paid Social"),
    ("Youtube", "paid", "", "", "Paid Video"),
    ("youtube", "paid", "", "youtube", "Paid Video"),
    ("", "banner", "", "", "Display"),
    ("", "cpc", "", "", "Paid Other"),
    ("walmart.com", "", "", "", "Organic Shopping"),
    ("walmart", "", "", "walmart", "Organic Shopping"),
    ("", "", "shop", "", "Organic Shopping"),
    ("Facebook", "", "", "", "Organic Social"),
    ("X (Twitter)", "", "", "twitter", "Organic Social"),
    ("", "social", "", "", "Organic Social"),
    ("Vimeo", "", "", "", "Organic Video"),
    ("vimeo", "", "", "vimeo", "Organic Video"),
    ("", "video", "", "", "Organic Video"),
    ("DuckDuckGo", "", "", "", "Organic Search"),
    ("duckduckgo", "", "", "duckduckgo", "Organic Search"),
    ("", "referral", "", "", "Referral"),
    ("email", "", "", "email", "Email"),
    ("", "email", "", "", "Email"),
    ("", "affiliate", "", "", "Affiliates"),
    ("", "audio", "", "", "Audio"),
    ("sms", "", "", "sms", "SMS"),
    ("", "sms", "", "", "SMS"),
    ("", "app-push", "", "", "Mobile Push Notifications"),
    ("", "example-mobile", "", "", "Mobile Push Notifications"),
    ("othersite.com", "", "", "", "Referral"),
    ("Threads", "", "", "threads", "Organic Social"),
    ("Instagram", "", "", "ig", "Organic Social"),
    ("Youtube", "", "", "yt", "Organic Video"),
    ("Youtube", "", "", "yt-ads", "Paid Video"),
    ("Facebook", "", "", "fb", "Organic Social"),
    ("Facebook", "", "", "fb-ads", "Paid Social"),
    ("Facebook", "", "", "fbad", "Paid Social"),
    ("Facebook", "", "", "facebook-ads", "Paid Social"),
    ("Reddit", "", "", "Reddit-ads", "Paid Social"),
    ("Google", "", "", "google_ads", "Paid Search"),
    ("Google", "", "", "Google-ads", "Paid Search"),
    ("Google", "", "", "Adwords", "Paid Search"),
    ("X (Twitter)", "", "", "twitter-ads", "Paid Social"),
    ("Reddit", "", "", "", "Organic Social"),
    ("Perplexity", "", "", "", "AI Assistants"),
    ("Microsoft Teams", "", "", "", "Organic Social"),
    ("Wikipedia", "", "", "", "Referral"),
    ("Bing", "", "", "", "Organic Search"),
    ("Brave", "", "", "", "Organic Search"),
    ("Yandex", "", "", "", "Organic Search"),
    ("Discord", "", "", "", "Organic Social"),
    ("Baidu", "", "", "", "Organic Search"),
    ("Telegram", "", "", "", "Organic Social"),
    ("Sogou", "", "", "", "Organic Search"),
    ("Linktree", "", "", "", "Referral"),
    ("Linktree", "", "", "linktree", "Referral"),
    ("Hacker News", "", "", "", "Organic Social"),
    ("Yahoo!", "", "", "", "Organic Search"),
    ("Gmail", "", "", "", "Email"),
    ("Newsletter-UK", "", "", "Newsletter-UK", "Email"),
    ("temu.com", "", "", "", "Organic Shopping"),
    ("Telegram", "", "", "Telegram", "Organic Social"),
    ("Bluesky", "", "", "", "Organic Social"),
    ("Mastodon", "", "", "", "Organic Social"),
    ("Google Gemini", "", "", "", "AI Assistants"),
    ("ChatGPT", "", "", "", "AI Assistants"),
    ("Claude", "", "", "", "AI Assistants"),
    ("Phind", "", "", "", "AI Assistants"),
    ("DeepSeek", "", "", "", "AI Assistants"),
    ("Grok", "", "", "", "AI Assistants"),
    ("Slack", "", "", "", "Organic Social"),
    ("producthunt", "", "", "", "Organic Social"),
    ("GitHub", "", "", "", "Organic Social"),
    ("steamcommunity.com", "", "", "", "Organic Social"),
    ("Vkontakte", "", "", "", "Organic Social"),
    ("Threads", "", "", "", "Organic Social"),
    ("Ecosia", "", "", "", "Organic Search"),
    ("Microsoft 365", "", "", "", "Referral"),
    ("Google", "display", "", "", "Display"),  # click_id_param 123identifier
]

# Teller's own rows: no source is stored as "Direct / None"; old rows hold Teller's former source names.
TELLER_CASES: list[tuple[str, str, str, str, str]] = [
    (DIRECT_SOURCE, "", "", "", "Direct"),
    (DIRECT_SOURCE, "email", "", "", "Email"),
    (DIRECT_SOURCE, "", "", "newsletter", "Email"),
    ("X", "", "", "", "Organic Social"),
    ("Yahoo", "", "", "", "Organic Search"),
    ("YouTube", "", "", "", "Organic Video"),
    ("VK", "", "", "", "Organic Social"),
    ("Brave Search", "", "", "", "Organic Search"),
    ("Google", "CPC", "", "", "Paid Search"),
    ("GOOGLE", "", "", "", "Organic Search"),
    ("nrk.no", "", "", "", "Referral"),
    ("firebase", "", "", "", "Mobile Push Notifications"),
    ("", "web-push", "", "", "Mobile Push Notifications"),
    ("Facebook", "", "Summer-Shop-2025", "", "Organic Shopping"),
    ("Facebook", "", "workshop", "", "Organic Social"),
    ("", "", "", "e_mail", "Email"),
    ("", "link", "", "", "Referral"),
    ("Æøå.no", "", "", "", "Referral"),
]

ALL_CASES = PLAUSIBLE_CASES + TELLER_CASES


@pytest.mark.parametrize(("source", "medium", "campaign", "tagged", "expected"), ALL_CASES)
def test_channel_in_python(source: str, medium: str, campaign: str, tagged: str, expected: str) -> None:
    assert channel(source, medium, tagged, campaign) == expected


def _rows_sql(rows: list[tuple[str, str, str, str]]) -> str:
    """One subquery with a numbered row per case, columns named as the stored tables name them."""
    columns = ("source", "utm_medium", "utm_campaign", "utm_source")
    arrays = ", ".join(
        "[" + ", ".join(quote(row[i]) for row in rows) + f"] AS {name}" for i, name in enumerate(columns)
    )
    numbers = "[" + ", ".join(str(n) for n in range(len(rows))) + "] AS n"
    return f"SELECT n, {', '.join(columns)} FROM system.one ARRAY JOIN {numbers}, {arrays}"


def _channels(store: Store, rows: list[tuple[str, str, str, str]]) -> list[str]:
    """The channel of each row by channel_sql, in the rows' order."""
    expression = channel_sql("source", "utm_medium", "utm_source", "utm_campaign", "referrer_host")
    result = store.query(f"SELECT n, {expression} FROM ({_rows_sql(rows)}) ORDER BY n")
    return [name for _, name in result]


def test_channel_sql_matches_plausible_on_both_engines(store: Store) -> None:
    rows = [case[:4] for case in ALL_CASES]
    got = _channels(store, rows)
    assert [(case, name) for case, name in zip(ALL_CASES, got, strict=True) if name != case[4]] == []


def test_channel_sql_agrees_with_python_for_every_listed_source(store: Store) -> None:
    combos = [
        ("", "", ""),
        ("cpc", "", ""),
        ("", "", "fb-ads"),
        ("social", "", ""),
        ("", "big-sale", ""),
        ("newsletter", "", ""),
        ("display", "", ""),
        ("", "", "sms"),
    ]
    sources = [*sorted(SOURCE_CATEGORIES), "", DIRECT_SOURCE, "othersite.com", "Google", "X"]
    rows = [(source, *combos[i % len(combos)]) for i, source in enumerate(sources)]
    rows += [("", *combo) for combo in combos]
    got = _channels(store, rows)
    expected = [channel(source, medium, tagged, campaign) for source, medium, campaign, tagged in rows]
    assert [(row, a, b) for row, a, b in zip(rows, got, expected, strict=True) if a != b] == []


def test_channel_sql_stays_small() -> None:
    # Measured: about 20 KB, well under ClickHouse's default max_query_size of 256 KiB.
    assert len(channel_sql("source", "utm_medium", "utm_source", "utm_campaign")) < 40_000


def test_category_list_is_plausibles() -> None:
    assert len(SOURCE_CATEGORIES) > 800
    assert source_category("Google") == "SEARCH"
    assert source_category("instagram.com") == "SOCIAL"
    assert source_category("youtube") == "VIDEO"
    assert source_category("ebay.de") == "SHOPPING"
    assert source_category("Gmail") == "EMAIL"
    assert source_category("perplexity") == "AI_ASSISTANTS"
    assert source_category("nrk.no") == ""


def test_paid_sources_are_the_ad_keys_of_the_custom_sources() -> None:
    rows = [line.split("\t") for line in SOURCES_FILE.read_text(encoding="utf-8").splitlines() if line[:1] != "#"]
    keys = [key for kind, key, _ in rows if kind == "custom"]
    assert frozenset(key for key in keys if key.endswith(("ads", "ad"))) | {"adwords"} == PAID_SOURCES
