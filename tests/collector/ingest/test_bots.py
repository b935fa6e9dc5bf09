"""Tests for bot detection."""

from __future__ import annotations

import re

import pytest

from collector.ingest import bots
from collector.ingest.bots import is_bot

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36 Edg/120.0.2210.91",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 "
    "Chrome/115.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 "
    "Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 "
    "Safari/537.36 OPR/105.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 "
    "Safari/605.1.15",
]

BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "curl/8.4.0",
    "Wget/1.21.4",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 "
    "Safari/537.36",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "",
    "   ",
    "Mozilla",
]


@pytest.mark.parametrize("ua", BROWSERS)
def test_browsers_are_not_bots(ua: str) -> None:
    assert not is_bot(ua)


@pytest.mark.parametrize("ua", BOTS)
def test_bots(ua: str) -> None:
    assert is_bot(ua)


def test_bot_token_beyond_truncation_is_ignored() -> None:
    assert not is_bot(BROWSERS[0] + " " * bots.MAX_UA_LENGTH + "Googlebot/2.1")


def _literal(pattern: str) -> str:
    """Turn a crawler pattern into a plain string it should match."""
    text = re.sub(r"\\[dDsSwW]", "1", pattern)
    text = re.sub(r"\[\^?([^\]]*)\]", lambda m: m.group(1)[:1] or "x", text)
    text = re.sub(r"\\(.)", r"\1", text)
    return re.sub(r"[()?*+^$|{}]", "", text).replace(".", "x")


def test_native_matcher_agrees_with_crawlerdetect() -> None:
    native = bots._native_matcher()
    if native is None:
        pytest.skip("ua-parser-rs is not installed")
    reference = bots._python_matcher()
    corpus = [f"Mozilla/5.0 (compatible; {_literal(p)}/2.1)" for p in bots._CRAWLER_PATTERNS]
    corpus += [_literal(p).upper() for p in bots._CRAWLER_PATTERNS]
    corpus += [ua.lower() for ua in BROWSERS] + ["YandexSearch/1.0", "YandexBot/3.0"]
    texts = {bots._EXCLUSIONS.sub("", ua) for ua in corpus}
    disagreements = [t for t in texts if t and native(t) != reference(t)]
    assert disagreements == []
    assert sum(map(reference, texts)) > len(bots._CRAWLER_PATTERNS)
