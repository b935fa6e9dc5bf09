"""Tests for referrer classification: source names as Plausible's ingestion gives them."""

from __future__ import annotations

import pytest

from collector.ingest.referrer import DIRECT_REFERRER, Referrer, classify_referrer, find_mapping, referrer_host

PAGE = "example.com"

# Cases marked "doctest" are the examples of Plausible.Ingestion.Source.resolve/1 (lib/plausible/ingestion/
# source.ex, run by test/plausible/ingestion/source_test.exs); "external" ones come from
# test/plausible_web/controllers/api/external_controller_test.exs.
CASES: list[tuple[str | None, str, str | None, Referrer]] = [
    # Direct, self-referrals and what is no referral.
    (None, PAGE, None, DIRECT_REFERRER),
    ("", PAGE, None, DIRECT_REFERRER),
    ("https://example.com/pricing", PAGE, None, DIRECT_REFERRER),  # external: ignores when referrer is internal
    ("https://www.example.com/", PAGE, None, DIRECT_REFERRER),
    ("https://EXAMPLE.com:8443/", "www.example.com:443", None, DIRECT_REFERRER),
    ("not a url", PAGE, None, DIRECT_REFERRER),
    ("http://localhost:4000/", PAGE, None, DIRECT_REFERRER),  # external: ignores localhost referrer
    ("ftp://wat", PAGE, None, DIRECT_REFERRER),  # external: not http, https or android
    # Search engines: referers.yml names.
    ("https://google.com", PAGE, None, Referrer("google.com", "Google", "search")),  # doctest
    ("https://www.google.com/", PAGE, None, Referrer("www.google.com", "Google", "search")),
    ("https://www.google.no/", PAGE, None, Referrer("www.google.no", "Google", "search")),
    ("https://google.co.uk/search?q=x", PAGE, None, Referrer("google.co.uk", "Google", "search")),
    ("https://docs.google.com/d/1", PAGE, None, Referrer("docs.google.com", "Google", "search")),
    ("https://news.google.com/", PAGE, None, Referrer("news.google.com", "Google News", "other")),
    ("https://www.bing.com/search?q=x", PAGE, None, Referrer("www.bing.com", "Bing", "search")),
    ("https://duckduckgo.com/", PAGE, None, Referrer("duckduckgo.com", "DuckDuckGo", "search")),
    ("https://uk.search.yahoo.com/", PAGE, None, Referrer("uk.search.yahoo.com", "Yahoo!", "search")),
    ("https://yandex.ru/search/", PAGE, None, Referrer("yandex.ru", "Yandex", "search")),
    ("https://yandex.kz/", PAGE, None, Referrer("yandex.kz", "Yandex", "search")),
    ("https://www.baidu.com/link", PAGE, None, Referrer("www.baidu.com", "Baidu", "search")),
    ("https://www.ecosia.org/", PAGE, None, Referrer("www.ecosia.org", "Ecosia", "search")),
    ("https://www.qwant.com/", PAGE, None, Referrer("www.qwant.com", "Qwant", "search")),
    ("https://www.kvasir.no/", PAGE, None, Referrer("www.kvasir.no", "Kvasir", "search")),
    ("https://search.brave.com/", PAGE, None, Referrer("search.brave.com", "Brave", "search")),
    # App referrers keep their scheme unless known (custom_sources.json lists Reddit's).
    (
        "android-app://com.google.android.googlequicksearchbox/",
        PAGE,
        None,
        Referrer(
            "com.google.android.googlequicksearchbox", "android-app://com.google.android.googlequicksearchbox", "other"
        ),
    ),
    (
        "android-app://some.android.app",
        PAGE,
        None,
        Referrer("some.android.app", "android-app://some.android.app", "other"),
    ),  # external: stores referrer from android app
    ("android-app://com.reddit.frontpage/", PAGE, None, Referrer("com.reddit.frontpage", "Reddit", "social")),
    # Social networks.
    ("https://facebook.com", PAGE, None, Referrer("facebook.com", "Facebook", "social")),  # external
    ("https://l.facebook.com/l.php?u=x", PAGE, None, Referrer("l.facebook.com", "Facebook", "social")),
    ("http://m.facebook.com/", PAGE, None, Referrer("m.facebook.com", "Facebook", "social")),
    ("https://www.instagram.com/", PAGE, None, Referrer("www.instagram.com", "Instagram", "social")),
    ("https://t.co/abc", PAGE, None, Referrer("t.co", "Twitter", "social")),
    ("https://twitter.com/x", PAGE, None, Referrer("twitter.com", "Twitter", "social")),
    ("https://x.com/", PAGE, None, Referrer("x.com", "Twitter", "social")),
    ("https://www.linkedin.com/feed/", PAGE, None, Referrer("www.linkedin.com", "LinkedIn", "social")),
    ("https://lnkd.in/abc", PAGE, None, Referrer("lnkd.in", "LinkedIn", "social")),
    ("https://old.reddit.com/r/x", PAGE, None, Referrer("old.reddit.com", "Reddit", "social")),
    ("https://www.youtube.com/", PAGE, None, Referrer("www.youtube.com", "Youtube", "video")),
    ("https://no.pinterest.com/", PAGE, None, Referrer("no.pinterest.com", "Pinterest", "social")),
    ("https://news.ycombinator.com/", PAGE, None, Referrer("news.ycombinator.com", "Hacker News", "social")),
    ("https://github.com/plausible", PAGE, None, Referrer("github.com", "GitHub", "social")),
    ("https://bsky.app/profile/x", PAGE, None, Referrer("bsky.app", "Bluesky", "social")),
    ("https://t.me/channel", PAGE, None, Referrer("t.me", "Telegram", "social")),
    ("https://discord.com/channels/1", PAGE, None, Referrer("discord.com", "Discord", "social")),
    # Hosts the referer database does not know keep their name, with their GA4 category as class.
    ("https://www.tiktok.com/", PAGE, None, Referrer("www.tiktok.com", "tiktok.com", "social")),
    ("https://mastodon.social/@x", PAGE, None, Referrer("mastodon.social", "mastodon.social", "other")),
    # Webmail.
    ("https://mail.google.com/mail/u/0/", PAGE, None, Referrer("mail.google.com", "Gmail", "email")),
    ("https://outlook.live.com/", PAGE, None, Referrer("outlook.live.com", "Outlook.com", "other")),
    ("https://mail.yahoo.com/", PAGE, None, Referrer("mail.yahoo.com", "Yahoo! Mail", "other")),
    # Custom hosts (custom_sources.json).
    ("https://en.m.wikipedia.org", PAGE, None, Referrer("en.m.wikipedia.org", "Wikipedia", "other")),  # doctest
    ("https://linktr.ee/someone", PAGE, None, Referrer("linktr.ee", "Linktree", "other")),
    # Other hosts: the host without "www."; port, userinfo and case are dropped.
    ("https://www.markosaric.com", PAGE, None, Referrer("www.markosaric.com", "markosaric.com", "other")),  # doctest
    (
        "https://www.indiehackers.com/landing-page-feedback",
        PAGE,
        None,
        Referrer("www.indiehackers.com", "indiehackers.com", "other"),
    ),  # external: an unknown referrer is its domain
    ("https://blog.example.com", PAGE, None, Referrer("blog.example.com", "blog.example.com", "other")),  # external
    ("https://www.nrk.no/nyheter", PAGE, None, Referrer("www.nrk.no", "nrk.no", "other")),
    (
        "https://user:pw@Blog.Example.org:8080/x",
        PAGE,
        None,
        Referrer("blog.example.org", "blog.example.org", "other"),
    ),
    ("https://notfacebook.com/", PAGE, None, Referrer("notfacebook.com", "notfacebook.com", "other")),
    (
        "https://facebook.com.evil.test/",
        PAGE,
        None,
        Referrer("facebook.com.evil.test", "facebook.com.evil.test", "other"),
    ),
    (
        "https://google.com.evil.test/",
        PAGE,
        None,
        Referrer("google.com.evil.test", "google.com.evil.test", "other"),
    ),
    ("http://[2001:db8::1]:8080/", PAGE, None, Referrer("[2001:db8::1]", "[2001:db8::1]", "other")),
    # utm_source: known names in any case, shorthands, anything else as given.
    (None, PAGE, "google", Referrer("", "Google", "search")),  # doctest
    (None, PAGE, "GOOGLE", Referrer("", "Google", "search")),  # doctest
    (None, PAGE, "wikipedia", Referrer("", "Wikipedia", "other")),  # doctest
    (None, PAGE, "ig", Referrer("", "Instagram", "social")),  # doctest
    (None, PAGE, "facebook", Referrer("", "Facebook", "social")),  # external: capitalized form is recorded
    (None, PAGE, "fb", Referrer("", "Facebook", "social")),
    (None, PAGE, "duckduckgo", Referrer("", "DuckDuckGo", "search")),
    (None, PAGE, "adwords", Referrer("", "Google", "search")),
    (None, PAGE, "yt", Referrer("", "Youtube", "video")),
    (None, PAGE, "linkedin", Referrer("", "LinkedIn", "social")),
    (None, PAGE, "betalist", Referrer("", "betalist", "other")),  # external: ?ref param behaves like utm_source
    (None, PAGE, "  newsletter-2024 ", Referrer("", "newsletter-2024", "other")),
    ("", PAGE, "newsletter", Referrer("", "newsletter", "other")),
    ("https://example.com/", PAGE, "linkedin", Referrer("", "LinkedIn", "social")),
    (None, PAGE, "   ", DIRECT_REFERRER),
    # utm_source wins over the referrer; the referring host is still kept.
    (
        "https://betalist.com/my-produxct",
        PAGE,
        "betalist",
        Referrer("betalist.com", "betalist", "other"),
    ),  # external: utm_source overrides referrer source
    ("https://www.bing.com/", PAGE, "newsletter", Referrer("www.bing.com", "newsletter", "other")),
]


@pytest.mark.parametrize(("referrer", "page_host", "utm_source", "expected"), CASES)
def test_classify_referrer(referrer: str | None, page_host: str, utm_source: str | None, expected: Referrer) -> None:
    assert classify_referrer(referrer, page_host, utm_source) == expected


def test_find_mapping_is_case_insensitive_and_keeps_unknown_names() -> None:
    assert find_mapping("DUCKDUCKGO") == "DuckDuckGo"
    assert find_mapping("Tik.Tok") == "TikTok"
    assert find_mapping("Newsletter-UK") == "Newsletter-UK"


def test_utm_source_is_capped() -> None:
    assert classify_referrer(None, PAGE, "x" * 500).source == "x" * 100


def test_host_is_capped() -> None:
    assert len(referrer_host("https://" + "a" * 400 + ".com/")) == 253


def test_direct_source_name() -> None:
    assert Referrer("", "Direct / None", "direct") == DIRECT_REFERRER
