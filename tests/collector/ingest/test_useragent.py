"""Tests for user-agent parsing and device classification, with the names Plausible shows."""

from __future__ import annotations

import pytest

from collector.ingest.useragent import Client, device_class, parse_user_agent
from storage.value_names import BROWSER_NAMES, OS_NAMES

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
FIREFOX_GNU_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36"
)
CHROME_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1"
)
CHROME_OS = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
# The user agents of test/plausible_web/controllers/api/external_controller_test.exs ("parses user_agent":
# Chrome on Mac; @user_agent_mobile, an Android WebView: Mobile).
PLAUSIBLE_CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_4) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/70.0.3538.110 Safari/537.36"
)
PLAUSIBLE_WEBVIEW = (
    "Mozilla/5.0 (Linux; Android 6.0; U007 Pro Build/MRA58K; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/44.0.2403.119 Mobile Safari/537.36"
)
IE_TABLET_PC = "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0; Tablet PC 2.0)"


# Plausible's names: lib/plausible/ingestion/event.ex browser_name/1 folds the mobile variants into one browser
# (the device tells mobile), Matomo's spellings as on Plausible's dashboard icons (Microsoft Edge, Samsung
# Browser, Mac, GNU/Linux), "" for what the user agent does not tell.
@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        (CHROME_WINDOWS, Client("Chrome", "120", "Windows", "10", "Desktop")),
        (SAFARI_IPHONE, Client("Safari", "17", "iOS", "17", "Mobile")),
        (SAFARI_IPAD, Client("Safari", "16", "iOS", "16", "Tablet")),
        (FIREFOX_LINUX, Client("Firefox", "121", "Ubuntu", "", "Desktop")),
        (FIREFOX_GNU_LINUX, Client("Firefox", "121", "GNU/Linux", "", "Desktop")),
        (EDGE, Client("Microsoft Edge", "120", "Windows", "10", "Desktop")),
        (SAMSUNG_PHONE, Client("Samsung Browser", "23", "Android", "13", "Mobile")),
        (CHROME_ANDROID, Client("Chrome", "120", "Android", "14", "Mobile")),
        (CHROME_IPHONE, Client("Chrome", "120", "iOS", "17", "Mobile")),
        (CHROME_ANDROID_TABLET, Client("Chrome", "120", "Android", "13", "Tablet")),
        (CHROME_OS, Client("Chrome", "120", "Chrome OS", "14541", "Desktop")),
        (OPERA, Client("Opera", "105", "Windows", "10", "Desktop")),
        (SAFARI_MAC, Client("Safari", "17", "Mac", "10", "Desktop")),
        (PLAUSIBLE_CHROME_MAC, Client("Chrome", "70", "Mac", "10", "Desktop")),
        (PLAUSIBLE_WEBVIEW, Client("Mobile App", "", "Android", "6", "Mobile")),
        (FIREFOX_ANDROID, Client("Firefox", "121", "Android", "14", "Mobile")),
        (KINDLE_SILK, Client("Mobile Silk", "3", "Android", "4", "Tablet")),
        (WINDOWS_PHONE, Client("IE Mobile", "11", "Windows Phone", "8", "Mobile")),
        ("", Client("", "", "", "", "")),
        ("definitely not a browser", Client("", "", "", "", "")),
    ],
)
def test_parse_user_agent(ua: str, expected: Client) -> None:
    assert parse_user_agent(ua) == expected


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        (FIREFOX_ANDROID_TABLET, "Tablet"),
        (IE_TABLET_PC, "Desktop"),
        ("Mozilla/5.0 (iPod touch; CPU iPhone OS 15_0 like Mac OS X)", "Mobile"),
        ("Opera/9.80 (J2ME/MIDP; Opera Mini/6.5.27510/34.1624; U; en) Presto/2.8.119 Mobi", "Mobile"),
    ],
)
def test_device_class(ua: str, expected: str) -> None:
    assert device_class(ua) == expected


def test_absurd_user_agent_is_truncated() -> None:
    client = parse_user_agent(CHROME_WINDOWS + " x" * 10_000)
    assert client.browser == "Chrome"
    assert client.device == "Desktop"


def test_result_is_cached() -> None:
    assert parse_user_agent(CHROME_WINDOWS) is parse_user_agent(CHROME_WINDOWS)


def test_every_name_is_already_plausibles() -> None:
    # Renaming a stored name again must not change it: the read-time renames (storage/value_names.py) apply to
    # old and new rows alike.
    for ua in (CHROME_WINDOWS, SAFARI_IPHONE, EDGE, SAMSUNG_PHONE, FIREFOX_GNU_LINUX, SAFARI_MAC, PLAUSIBLE_WEBVIEW):
        client = parse_user_agent(ua)
        assert BROWSER_NAMES.get(client.browser, client.browser) == client.browser
        assert OS_NAMES.get(client.os, client.os) == client.os
