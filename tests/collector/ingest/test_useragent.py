"""Tests for user-agent parsing and device classification."""

from __future__ import annotations

import pytest

from collector.ingest.useragent import Client, device_class, parse_user_agent

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1.2 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
EDGE = CHROME_WINDOWS + " Edg/120.0.2210.91"
SAMSUNG_PHONE = (
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36"
)
CHROME_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Safari/537.36"
)
OPERA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36 OPR/105.0.0.0"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15"
)
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0"
FIREFOX_ANDROID_TABLET = "Mozilla/5.0 (Android 14; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0"
KINDLE_SILK = (
    "Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Silk/3.68 like Chrome/39.0.2171.93 Safari/537.36"
)
WINDOWS_PHONE = (
    "Mozilla/5.0 (Mobile; Windows Phone 8.1; Android 4.0; ARM; Trident/7.0; Touch; rv:11.0; IEMobile/11.0; "
    "NOKIA; Lumia 635) like iPhone OS 7_0_3 Mac OS X AppleWebKit/537 (KHTML, like Gecko) Mobile Safari/537"
)
IE_TABLET_PC = "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; Tablet PC 2.0)"


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        (CHROME_WINDOWS, Client("Chrome", "120", "Windows", "10", "desktop")),
        (SAFARI_IPHONE, Client("Mobile Safari", "17", "iOS", "17", "mobile")),
        (SAFARI_IPAD, Client("Mobile Safari", "16", "iOS", "16", "tablet")),
        (FIREFOX_LINUX, Client("Firefox", "121", "Ubuntu", "", "desktop")),
        (EDGE, Client("Edge", "120", "Windows", "10", "desktop")),
        (SAMSUNG_PHONE, Client("Samsung Internet", "23", "Android", "13", "mobile")),
        (CHROME_ANDROID_TABLET, Client("Chrome", "120", "Android", "13", "tablet")),
        (OPERA, Client("Opera", "105", "Windows", "10", "desktop")),
        (SAFARI_MAC, Client("Safari", "17", "Mac OS X", "10", "desktop")),
        (FIREFOX_ANDROID, Client("Firefox Mobile", "121", "Android", "14", "mobile")),
        (KINDLE_SILK, Client("Amazon Silk", "3", "Android", "4", "tablet")),
        (WINDOWS_PHONE, Client("IE Mobile", "11", "Windows Phone", "8", "mobile")),
        ("", Client("Unknown", "", "Unknown", "", "desktop")),
        ("definitely not a browser", Client("Unknown", "", "Unknown", "", "desktop")),
    ],
)
def test_parse_user_agent(ua: str, expected: Client) -> None:
    assert parse_user_agent(ua) == expected


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        (FIREFOX_ANDROID_TABLET, "tablet"),
        (IE_TABLET_PC, "desktop"),
        ("Mozilla/5.0 (iPod touch; CPU iPhone OS 15_0 like Mac OS X)", "mobile"),
        ("Opera/9.80 (J2ME/MIDP; Opera Mini/6.5.27510/34.1624; U; en) Presto/2.8.119 Mobi", "mobile"),
    ],
)
def test_device_class(ua: str, expected: str) -> None:
    assert device_class(ua) == expected


def test_absurd_user_agent_is_truncated() -> None:
    client = parse_user_agent(CHROME_WINDOWS + " x" * 10_000)
    assert client.browser == "Chrome"
    assert client.device == "desktop"


def test_result_is_cached() -> None:
    assert parse_user_agent(CHROME_WINDOWS) is parse_user_agent(CHROME_WINDOWS)
