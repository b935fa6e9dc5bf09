"""Read-time value names: rows stored under the old names read as Plausible's names, on both engines."""

from __future__ import annotations

import time

from storage.store import Store
from storage.value_names import (
    BROWSER_NAMES,
    DEVICE_NAMES,
    OS_NAMES,
    SOURCE_NAMES,
    browser_sql,
    device_sql,
    os_sql,
    referrer_sql,
    screen_class,
    screen_sql,
    source_sql,
)

# (stored browser, os, device, source, screen width, referrer, referrer host) → what each expression shows.
ROWS: list[tuple[tuple[str, str, str, str, int, str, str], tuple[str, str, str, str, str, str]]] = [
    # Rows stored before the names followed Plausible.
    (
        ("Chrome Mobile", "Android", "mobile", "X", 390, "https://t.co/abc", "t.co"),
        ("Chrome", "Android", "Mobile", "Twitter", "Mobile", "t.co/abc"),
    ),
    (
        ("Mobile Safari", "iOS", "tablet", "Yahoo", 820, "https://uk.search.yahoo.com/", "uk.search.yahoo.com"),
        ("Safari", "iOS", "Tablet", "Yahoo!", "Tablet", "uk.search.yahoo.com"),
    ),
    (
        ("Samsung Internet", "Linux", "desktop", "YouTube", 1280, "https://www.youtube.com/watch", "www.youtube.com"),
        ("Samsung Browser", "GNU/Linux", "Desktop", "Youtube", "Laptop", "youtube.com/watch"),
    ),
    (
        ("Edge", "Mac OS X", "desktop", "Direct / None", 1920, "", ""),
        ("Microsoft Edge", "Mac", "Desktop", "Direct / None", "Desktop", ""),
    ),
    (("Unknown", "Unknown", "desktop", "nrk.no", 0, "", ""), ("", "", "Desktop", "nrk.no", "", "")),
    (
        ("Firefox Mobile", "Android", "mobile", "Facebook", 575, "https://www.facebook.com/page/", "www.facebook.com"),
        ("Firefox", "Android", "Mobile", "Facebook", "Mobile", "facebook.com/page"),
    ),
    # Rows stored under Plausible's names stay as they are.
    (
        ("Chrome", "Windows", "Desktop", "Google", 1440, "https://www.google.com/", "www.google.com"),
        ("Chrome", "Windows", "Desktop", "Google", "Desktop", "google.com"),
    ),
    (
        (
            "Mobile App",
            "Android",
            "Mobile",
            "android-app://some.android.app",
            576,
            "android-app://some.android.app",
            "some.android.app",
        ),
        (
            "Mobile App",
            "Android",
            "Mobile",
            "android-app://some.android.app",
            "Tablet",
            "android-app://some.android.app",
        ),
    ),
    (
        ("", "", "", "Twitter", 991, "http://user:pw@Blog.Example.org:8080/x//", "blog.example.org"),
        ("", "", "", "Twitter", "Tablet", "blog.example.org/x"),
    ),
    (
        ("Safari", "Mac", "Desktop", "Newsletter", 992, "https://www.indiehackers.com", "www.indiehackers.com"),
        ("Safari", "Mac", "Desktop", "Newsletter", "Laptop", "indiehackers.com"),
    ),
]

COLUMNS = ["site", "ts", "name", "browser", "os", "device", "source", "screen_width", "referrer", "referrer_host"]


def test_stored_names_read_as_plausibles_on_both_engines(store: Store) -> None:
    # The events table itself, so LowCardinality columns are renamed as the planner will see them.
    now = int(time.time())
    rows = [("t.example", now + n, f"row{n:02d}", *stored) for n, (stored, _) in enumerate(ROWS)]
    store.insert("events", COLUMNS, [list(column) for column in zip(*rows, strict=True)])
    expressions = (
        browser_sql("browser"),
        os_sql("os"),
        device_sql("device"),
        source_sql("source"),
        screen_sql("screen_width"),
        referrer_sql("referrer", "referrer_host"),
    )
    got = store.query(f"SELECT {', '.join(expressions)} FROM events WHERE site = 't.example' ORDER BY name")
    assert [tuple(row) for row in got] == [shown for _, shown in ROWS]


def test_referrer_without_the_url_is_the_host(store: Store) -> None:
    sql = referrer_sql(None, "h")
    rows = store.query(f"SELECT {sql} FROM (SELECT arrayJoin(['www.facebook.com', 't.co', '']) AS h)")
    assert sorted(value for (value,) in rows) == ["", "facebook.com", "t.co"]


def test_source_sql_can_name_the_direct_visits_otherwise(store: Store) -> None:
    rows = store.query(f"SELECT {source_sql('s', direct='')} FROM (SELECT 'Direct / None' AS s)")
    assert rows == [("",)]


def test_renames_are_idempotent() -> None:
    # A current name is never itself an old name that means something else.
    for names in (BROWSER_NAMES, OS_NAMES, DEVICE_NAMES, SOURCE_NAMES):
        for new in names.values():
            assert names.get(new, new) == new


def test_screen_class_thresholds() -> None:
    # lib/plausible/ingestion/event.ex put_screen_size (before screen size came from the user agent).
    widths = [0, 1, 575, 576, 991, 992, 1439, 1440, 5000]
    assert [screen_class(width) for width in widths] == [
        "",
        "Mobile",
        "Mobile",
        "Tablet",
        "Tablet",
        "Laptop",
        "Laptop",
        "Desktop",
        "Desktop",
    ]
