"""Browser, OS, device, source, screen and referrer values as Plausible shows them, for rows of any age.

The collector stores these names since it follows Plausible (collector/ingest/useragent.py, referrer.py). Rows
stored before hold ua-parser's families ("Chrome Mobile", "Mac OS X"), "Unknown" and lowercase device classes;
each *_sql function returns a ClickHouse expression (18.16 and 26.x) that renames a column's stored value and
leaves a current name as it is, so one expression serves events, visits and rollups alike.
"""

from __future__ import annotations

from storage.sql import quote

DIRECT_SOURCE = "Direct / None"
MOBILE_APP = "Mobile App"

# ua-parser family → Plausible's browser name. Plausible names come from Matomo's device detector (UAInspector)
# with the renames of lib/plausible/ingestion/event.ex browser_name/1 (Mobile Safari → Safari, Chrome Mobile →
# Chrome, Firefox Mobile → Firefox, Opera Mobile/Mini → Opera, Chrome Webview and mobile apps → Mobile App);
# the spellings of the others are those of Plausible's dashboard icons
# (assets/js/dashboard/stats/devices/index.js: Microsoft Edge, Samsung Browser, DuckDuckGo Privacy Browser, ...).
BROWSER_NAMES: dict[str, str] = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Mobile App",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Firefox Beta": "Firefox",
    "Firefox Alpha": "Firefox",
    "Edge": "Microsoft Edge",
    "Edge Mobile": "Microsoft Edge",
    "Opera Mobile": "Opera",
    "Opera Mini": "Opera",
    "Samsung Internet": "Samsung Browser",
    "IE": "Internet Explorer",
    "IE Large Screen": "Internet Explorer",
    "Amazon Silk": "Mobile Silk",
    "DuckDuckGo Mobile": "DuckDuckGo Privacy Browser",
    "DuckDuckGo": "DuckDuckGo Privacy Browser",
    "MiuiBrowser": "MIUI Browser",
    "Huawei Browser": "Huawei Browser Mobile",
    "QQ Browser Mobile": "QQ Browser",
    "QQ Browser Mini": "QQ Browser",
    "Whale": "Whale Browser",
    "Ecosia Android": "Ecosia",
    "Ecosia iOS": "Ecosia",
    "Android": "Android Browser",
    # In-app browsers: Matomo types these "mobile app", which event.ex shows as Mobile App.
    "Facebook": "Mobile App",
    "Facebook Messenger": "Mobile App",
    "Instagram": "Mobile App",
    "Pinterest": "Mobile App",
    "LinkedIn": "Mobile App",
    "Snapchat": "Mobile App",
    "Twitter": "Mobile App",
    "TikTok": "Mobile App",
    "WeChat Browser": "Mobile App",
    "LINE": "Mobile App",
    "KakaoTalk": "Mobile App",
    "Telegram": "Mobile App",
    "Weibo": "Mobile App",
    "Google": "Mobile App",
    # Unknown: "" in Plausible (event.ex browser_name(:unknown)); "Unknown" is what Teller stored before.
    "Other": "",
    "Unknown": "",
}

# ua-parser OS family → Plausible's OS name (Matomo's, as on the dashboard's OS icons: Mac, GNU/Linux, ...).
OS_NAMES: dict[str, str] = {
    "Mac OS X": "Mac",
    "Mac OS": "Mac",
    "Linux": "GNU/Linux",
    "Linux Mint": "Mint",
    "WatchOS": "watchOS",
    "Other": "",
    "Unknown": "",
}

# Teller's device classes → Plausible's device (screen_size) names, lib/plausible/ingestion/event.ex screen_size/1.
DEVICE_NAMES: dict[str, str] = {"desktop": "Desktop", "mobile": "Mobile", "tablet": "Tablet"}

# Source names Teller stored before → the names Plausible gives the same referrers: snowplow referer-parser's
# referers.yml (which Plausible's RefInspector reads) and Plausible's priv/custom_sources.json.
SOURCE_NAMES: dict[str, str] = {
    "X": "Twitter",
    "Yahoo": "Yahoo!",
    "YouTube": "Youtube",
    "VK": "Vkontakte",
    "Brave Search": "Brave",
    "Outlook": "Outlook.com",
    "Yahoo Mail": "Yahoo! Mail",
    "Yandex Mail": "Yandex",
}

# Screen classes by width in CSS pixels, from the put_screen_size step of Plausible's earlier
# lib/plausible/ingestion/event.ex (and plausible/docs docs/devices.md): < 576, < 992, < 1440, then Desktop.
SCREEN_CLASSES: tuple[tuple[int, str], ...] = ((576, "Mobile"), (992, "Tablet"), (1440, "Laptop"))
SCREEN_WIDEST = "Desktop"


def _rename_sql(column: str, names: dict[str, str]) -> str:
    """transform(toString(column), [old...], [new...], toString(column)): a hash lookup per row."""
    old = ", ".join(quote(key) for key in names)
    new = ", ".join(quote(value) for value in names.values())
    return f"transform(toString({column}), [{old}], [{new}], toString({column}))"


def browser_sql(column: str) -> str:
    """ClickHouse expression: the browser column's value under Plausible's name ("" when unknown)."""
    return _rename_sql(column, BROWSER_NAMES)


def os_sql(column: str) -> str:
    """ClickHouse expression: the OS column's value under Plausible's name ("" when unknown)."""
    return _rename_sql(column, OS_NAMES)


def device_sql(column: str) -> str:
    """ClickHouse expression: the device column as Desktop, Mobile or Tablet ("" when unknown)."""
    return _rename_sql(column, DEVICE_NAMES)


def source_sql(column: str, direct: str = DIRECT_SOURCE) -> str:
    """ClickHouse expression: the source column under Plausible's names, `direct` for a visit without one."""
    names = dict(SOURCE_NAMES)
    if direct != DIRECT_SOURCE:
        names[DIRECT_SOURCE] = direct
    return _rename_sql(column, names)


def screen_sql(width_column: str) -> str:
    """ClickHouse expression: Plausible's screen class (Mobile, Tablet, Laptop, Desktop) of a width, "" for 0."""
    cases = ", ".join(f"{width_column} < {limit}, {quote(name)}" for limit, name in SCREEN_CLASSES)
    return f"multiIf({width_column} = 0, '', {cases}, {quote(SCREEN_WIDEST)})"


def screen_class(width: int) -> str:
    """Python twin of screen_sql."""
    if width == 0:
        return ""
    return next((name for limit, name in SCREEN_CLASSES if width < limit), SCREEN_WIDEST)


def referrer_sql(referrer_column: str | None, referrer_host_column: str) -> str:
    """ClickHouse expression of `visit:referrer` as Plausible's Source.format_referrer shows it."""
    # Host without "www." and path without trailing slashes, "android-app://" kept (lib/plausible/ingestion/
    # source.ex format_referrer), from the stored URL whose query and fragment put_referrer already cut
    # (collector/ingest/pipeline.py). Tables without the URL (visits, rollups) pass None: the host alone.
    # The host comes from referrer_host, parsed at ingest (ClickHouse's domain() gives "" for a URL with userinfo).
    host = f"replaceRegexpOne(toString({referrer_host_column}), {quote('^www[.]')}, '')"
    if referrer_column is None:
        return host
    url = f"toString({referrer_column})"
    app = f"if(protocol({url}) = 'android-app', 'android-app://', '')"
    return f"concat({app}, {host}, replaceRegexpOne(path({url}), {quote('/+$')}, ''))"
