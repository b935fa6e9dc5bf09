"""Tests for referrer classification."""

from __future__ import annotations

import pytest

from collector.ingest.referrer import DIRECT_REFERRER, Referrer, classify_referrer, referrer_host

PAGE = "example.com"


@pytest.mark.parametrize(
    ("referrer", "page_host", "utm_source", "expected"),
    [
        # Direct and self-referrals.
        (None, PAGE, None, DIRECT_REFERRER),
        ("", PAGE, None, DIRECT_REFERRER),
        ("https://example.com/pricing", PAGE, None, DIRECT_REFERRER),
        ("https://www.example.com/", PAGE, None, DIRECT_REFERRER),
        ("https://EXAMPLE.com:8443/", "www.example.com:443", None, DIRECT_REFERRER),
        ("not a url", PAGE, None, DIRECT_REFERRER),
        # Search.
        ("https://www.google.com/", PAGE, None, Referrer("www.google.com", "Google", "search")),
        ("https://www.google.no/", PAGE, None, Referrer("www.google.no", "Google", "search")),
        ("https://google.co.uk/search?q=x", PAGE, None, Referrer("google.co.uk", "Google", "search")),
        ("https://www.bing.com/search?q=x", PAGE, None, Referrer("www.bing.com", "Bing", "search")),
        ("https://duckduckgo.com/", PAGE, None, Referrer("duckduckgo.com", "DuckDuckGo", "search")),
        ("https://uk.search.yahoo.com/", PAGE, None, Referrer("uk.search.yahoo.com", "Yahoo", "search")),
        ("https://yandex.ru/search/", PAGE, None, Referrer("yandex.ru", "Yandex", "search")),
        ("https://www.baidu.com/link", PAGE, None, Referrer("www.baidu.com", "Baidu", "search")),
        ("https://www.ecosia.org/", PAGE, None, Referrer("www.ecosia.org", "Ecosia", "search")),
        ("https://www.startpage.com/", PAGE, None, Referrer("www.startpage.com", "Startpage", "search")),
        ("https://www.qwant.com/", PAGE, None, Referrer("www.qwant.com", "Qwant", "search")),
        ("https://www.kvasir.no/", PAGE, None, Referrer("www.kvasir.no", "Kvasir", "search")),
        (
            "android-app://com.google.android.googlequicksearchbox/",
            PAGE,
            None,
            Referrer("com.google.android.googlequicksearchbox", "Google", "search"),
        ),
        # Google properties that are not searches.
        ("https://news.google.com/", PAGE, None, Referrer("news.google.com", "news.google.com", "other")),
        # Social.
        ("https://l.facebook.com/l.php?u=x", PAGE, None, Referrer("l.facebook.com", "Facebook", "social")),
        ("https://m.facebook.com/", PAGE, None, Referrer("m.facebook.com", "Facebook", "social")),
        ("https://www.instagram.com/", PAGE, None, Referrer("www.instagram.com", "Instagram", "social")),
        ("https://t.co/abc", PAGE, None, Referrer("t.co", "X", "social")),
        ("https://twitter.com/x", PAGE, None, Referrer("twitter.com", "X", "social")),
        ("https://x.com/", PAGE, None, Referrer("x.com", "X", "social")),
        ("https://www.linkedin.com/feed/", PAGE, None, Referrer("www.linkedin.com", "LinkedIn", "social")),
        ("https://lnkd.in/abc", PAGE, None, Referrer("lnkd.in", "LinkedIn", "social")),
        ("https://old.reddit.com/r/x", PAGE, None, Referrer("old.reddit.com", "Reddit", "social")),
        ("https://www.youtube.com/", PAGE, None, Referrer("www.youtube.com", "YouTube", "social")),
        ("https://no.pinterest.com/", PAGE, None, Referrer("no.pinterest.com", "Pinterest", "social")),
        ("https://www.tiktok.com/", PAGE, None, Referrer("www.tiktok.com", "TikTok", "social")),
        # Mastodon instances are not special-cased.
        ("https://mastodon.social/@x", PAGE, None, Referrer("mastodon.social", "mastodon.social", "other")),
        # Email.
        ("https://mail.google.com/mail/u/0/", PAGE, None, Referrer("mail.google.com", "Gmail", "email")),
        ("https://outlook.live.com/", PAGE, None, Referrer("outlook.live.com", "Outlook", "email")),
        ("https://mail.yahoo.com/", PAGE, None, Referrer("mail.yahoo.com", "Yahoo Mail", "email")),
        # Other: bare host without "www.", host keeps it; port, userinfo and case are dropped.
        ("https://www.nrk.no/nyheter", PAGE, None, Referrer("www.nrk.no", "nrk.no", "other")),
        (
            "https://user:pw@Blog.Example.org:8080/x",
            PAGE,
            None,
            Referrer("blog.example.org", "blog.example.org", "other"),
        ),
        ("https://sub.example.com/", PAGE, None, Referrer("sub.example.com", "sub.example.com", "other")),
        ("https://notfacebook.com/", PAGE, None, Referrer("notfacebook.com", "notfacebook.com", "other")),
        (
            "https://facebook.com.evil.test/",
            PAGE,
            None,
            Referrer("facebook.com.evil.test", "facebook.com.evil.test", "other"),
        ),
        ("http://[2001:db8::1]:8080/", PAGE, None, Referrer("[2001:db8::1]", "[2001:db8::1]", "other")),
        # utm_source without a referrer.
        (None, PAGE, "  newsletter-2024 ", Referrer("", "newsletter-2024", "other")),
        (None, PAGE, "google", Referrer("", "google", "search")),
        (None, PAGE, "Facebook", Referrer("", "Facebook", "social")),
        ("", PAGE, "newsletter", Referrer("", "newsletter", "email")),
        ("https://example.com/", PAGE, "linkedin", Referrer("", "linkedin", "social")),
        (None, PAGE, "   ", DIRECT_REFERRER),
        # A real referrer wins over utm_source.
        ("https://www.bing.com/", PAGE, "newsletter", Referrer("www.bing.com", "Bing", "search")),
    ],
)
def test_classify_referrer(referrer: str | None, page_host: str, utm_source: str | None, expected: Referrer) -> None:
    assert classify_referrer(referrer, page_host, utm_source) == expected


def test_utm_source_is_capped() -> None:
    assert classify_referrer(None, PAGE, "x" * 500).source == "x" * 100


def test_host_is_capped() -> None:
    assert len(referrer_host("https://" + "a" * 400 + ".com/")) == 253


def test_direct_source_name() -> None:
    assert Referrer("", "Direct / None", "direct") == DIRECT_REFERRER
