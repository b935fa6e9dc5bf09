"""Plausible CSV import on both engines: the numbers of Plausible's own test export, meta, re-import, delete, limits."""

import io
import zipfile

import pytest
from harness import Harness
from plausible_fixture import CSV_FILES, column_sum, csv_text, export_zip

from storage import plausible_import
from storage.imported import delete_import, list_imports
from storage.plausible_import import ImportRefused, import_plausible_zip

SITE = "lucky.numbers.com"
OLD = ["2011-12-25", "2011-12-30"]  # the days of imported_visitors
NEW = ["2021-12-30", "2022-01-06"]  # the days of the breakdown files
VISITORS = "imported_visitors_20111225_20111230.csv"
SOURCES = "imported_sources_20211230_20220106.csv"
PAGES = "imported_pages_20211230_20220101.csv"
ENTRY_PAGES = "imported_entry_pages_20211230_20211231.csv"
# Every path in Plausible's test files is a run of 19 or 20 digits: stored as /[number], as ingest stores it.
NUMBER_PAGE = "/[number]"


def _imported(harness: Harness) -> plausible_import.ImportResult:
    harness.add_site(SITE)
    return import_plausible_zip(harness.store, SITE, io.BytesIO(export_zip()), "lucky.zip")


def _query(harness: Harness, body: dict) -> dict:
    response = harness.query({"site_id": SITE, "include": {"imports": True}, **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_totals_are_the_exports_sums(harness: Harness) -> None:
    result = _imported(harness)
    assert result.rows["imported_visitors"] == 6
    assert result.total_rows == sum(len(csv_text(name).splitlines()) - 1 for name in CSV_FILES)
    metrics = ["visitors", "pageviews", "visits", "bounce_rate", "visit_duration", "views_per_visit"]
    answer = _query(harness, {"metrics": metrics, "date_range": OLD})
    visits = column_sum(VISITORS, "visits")
    # Plausible's test of these files checks imported_pageview_count == 99.
    assert column_sum(VISITORS, "pageviews") == 99
    assert answer["results"][0]["metrics"] == [
        column_sum(VISITORS, "visitors"),
        99,
        visits,
        round(100 * column_sum(VISITORS, "bounces") / visits),
        round(column_sum(VISITORS, "visit_duration") / visits),
        round(99 / visits, 2),
    ]
    assert answer["meta"]["imports_included"] is True
    assert "imports_skip_reason" not in answer["meta"]
    without = harness.query({"site_id": SITE, "metrics": ["visitors"], "date_range": OLD})
    assert without.json()["results"][0]["metrics"] == [0]
    assert "imports_included" not in without.json()["meta"]


def test_daily_series_and_breakdowns_are_the_exports_rows(harness: Harness) -> None:
    _imported(harness)
    series = _query(harness, {"metrics": ["pageviews"], "date_range": OLD, "dimensions": ["time:day"]})["results"]
    assert [(row["dimensions"][0], row["metrics"][0]) for row in series] == [
        (day, column_sum(VISITORS, "pageviews", {"date": day}))
        for day in ["2011-12-25", "2011-12-26", "2011-12-27", "2011-12-28", "2011-12-29", "2011-12-30"]
    ]
    sources = _query(harness, {"metrics": ["visitors", "visits"], "date_range": NEW, "dimensions": ["visit:source"]})
    found = {row["dimensions"][0]: row["metrics"] for row in sources["results"]}
    assert found["Google"] == [
        column_sum(SOURCES, "visitors", {"source": "Google"}),
        column_sum(SOURCES, "visits", {"source": "Google"}),
    ]
    assert found["Direct / None"][0] == column_sum(SOURCES, "visitors", {"source": ""})
    assert list(found)[0] == "Direct / None"  # ordered by visitors, the largest first
    checks = [
        ("visit:browser", "imported_browsers_20211230_20211231.csv", "browser", "Safari"),
        ("visit:device", "imported_devices_20211230_20220102.csv", "device", "Mobile"),
        ("visit:country", "imported_locations_20211230_20211231.csv", "country", "AU"),
        ("visit:os", "imported_operating_systems_20211230_20220101.csv", "operating_system", "iOS"),
    ]
    for dimension, name, column, value in checks:
        rows = _query(harness, {"metrics": ["visitors"], "date_range": NEW, "dimensions": [dimension]})["results"]
        shown = {row["dimensions"][0]: row["metrics"][0] for row in rows}
        assert shown[value] == column_sum(name, "visitors", {column: value}), dimension
    entry_pages = _query(harness, {"metrics": ["visitors"], "date_range": NEW, "dimensions": ["visit:entry_page"]})
    assert entry_pages["results"] == [{"dimensions": [NUMBER_PAGE], "metrics": [column_sum(ENTRY_PAGES, "visitors")]}]
    pages = _query(harness, {"metrics": ["pageviews"], "date_range": NEW, "dimensions": ["event:page"]})["results"]
    assert pages == [{"dimensions": [NUMBER_PAGE], "metrics": [column_sum(PAGES, "pageviews")]}]
    entry = _query(
        harness,
        {
            "metrics": ["visits", "bounce_rate"],
            "date_range": NEW,
            "filters": [["is", "visit:entry_page", [NUMBER_PAGE]]],
        },
    )["results"][0]["metrics"]
    entrances = column_sum(ENTRY_PAGES, "entrances")
    assert entry == [entrances, round(100 * column_sum(ENTRY_PAGES, "bounces") / entrances)]
    filtered = _query(
        harness, {"metrics": ["visitors"], "date_range": NEW, "filters": [["is", "visit:source", ["Bing"]]]}
    )
    assert filtered["results"][0]["metrics"] == [column_sum(SOURCES, "visitors", {"source": "Bing"})]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"dimensions": ["time:hour"]}, "unsupported_interval"),
        ({"dimensions": ["visit:screen"]}, "unsupported_query"),
        ({"dimensions": ["visit:source"], "filters": [["is", "visit:country", ["AU"]]]}, "unsupported_query"),
        ({"metrics": ["time_on_page"], "dimensions": ["event:page"]}, "unsupported_query"),
    ],
)
def test_what_the_import_lacks_is_answered_without_it(harness: Harness, body: dict, reason: str) -> None:
    _imported(harness)
    answer = _query(harness, {"metrics": ["visitors"], "date_range": NEW, **body})
    assert answer["meta"]["imports_included"] is False
    assert answer["meta"]["imports_skip_reason"] == reason
    assert answer["meta"]["imports_warning"].startswith("Imported stats are not included")
    assert all(row["metrics"][0] in (0, None) for row in answer["results"])


def test_no_imports_and_out_of_range_say_so(harness: Harness) -> None:
    harness.add_site(SITE)
    assert _query(harness, {"metrics": ["visitors"], "date_range": NEW})["meta"] == {
        "source": "rollup",
        "time_zone": "UTC",
        "imports_included": False,
        "imports_skip_reason": "no_imported_data",
    }
    import_plausible_zip(harness.store, SITE, io.BytesIO(export_zip()))
    meta = _query(harness, {"metrics": ["visitors"], "date_range": ["2024-01-01", "2024-01-31"]})["meta"]
    assert (meta["imports_included"], meta["imports_skip_reason"]) == (False, "out_of_range")


def test_page_paths_are_scrubbed_as_ingest_scrubs_them(harness: Harness) -> None:
    harness.add_site(SITE)
    files = {
        "imported_pages_20240101_20240101.csv": '"date","visitors","pageviews","hostname","page"\n'
        '"2024-01-01",2,3,"lucky.numbers.com","/users/ola.nordmann@example.com"\n'
        '"2024-01-01",1,1,"lucky.numbers.com","/users/kari%40example.no/edit"\n'
        '"2024-01-01",1,4,"lucky.numbers.com","/blog/2024/01/post-123456"\n',
        "imported_entry_pages_20240101_20240101.csv": '"date","visitors","entrances","visit_duration","bounces",'
        '"entry_page"\n"2024-01-01",2,2,10,1,"/kunde/01019912345"\n',
        "imported_exit_pages_20240101_20240101.csv": '"date","visitors","exits","exit_page"\n'
        '"2024-01-01",2,2,"/call/4798765432"\n',
        "imported_custom_events_20240101_20240101.csv": '"date","name","link_url","path","visitors","events"\n'
        '"2024-01-01","Signup","","/users/ola.nordmann@example.com",1,1\n',
    }
    import_plausible_zip(harness.store, SITE, _zip(files))
    stored = {
        "imported_pages": harness.store.query("SELECT page FROM imported_pages ORDER BY page"),
        "imported_entry_pages": harness.store.query("SELECT entry_page FROM imported_entry_pages"),
        "imported_exit_pages": harness.store.query("SELECT exit_page FROM imported_exit_pages"),
        "imported_custom_events": harness.store.query("SELECT path FROM imported_custom_events"),
    }
    assert stored == {
        "imported_pages": [("/blog/2024/01/post-123456",), ("/users/[email]",), ("/users/[email]/edit",)],
        "imported_entry_pages": [("/kunde/[number]",)],
        "imported_exit_pages": [("/call/[number]",)],
        "imported_custom_events": [("/users/[email]",)],
    }
    for table in plausible_import.TABLES:
        columns = harness.store.query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = %(t)s "
            "AND type LIKE '%String%'",
            {"t": table},
        )
        for secret in ("ola.nordmann", "kari", "01019912345", "4798765432"):
            for (column,) in columns:
                hits = harness.store.query(
                    f"SELECT count() FROM {table} WHERE position({column}, %(s)s) > 0", {"s": secret}
                )
                assert hits == [(0,)], (table, column, secret)
    pages = _query(
        harness, {"metrics": ["pageviews"], "date_range": ["2024-01-01", "2024-01-01"], "dimensions": ["event:page"]}
    )
    assert {row["dimensions"][0]: row["metrics"][0] for row in pages["results"]} == {
        "/blog/2024/01/post-123456": 4,
        "/users/[email]": 3,
        "/users/[email]/edit": 1,
    }


def test_importing_twice_does_not_double_and_delete_removes(harness: Harness) -> None:
    first = _imported(harness)
    second = import_plausible_zip(harness.store, SITE, io.BytesIO(export_zip()), "again.zip")
    assert second.import_id == first.import_id
    body = {"metrics": ["pageviews"], "date_range": OLD}
    assert _query(harness, body)["results"][0]["metrics"] == [99]
    other = import_plausible_zip(harness.store, SITE, io.BytesIO(export_zip([SOURCES])))
    assert {r.import_id for r in list_imports(harness.store, SITE)} == {first.import_id, other.import_id}
    google = {"metrics": ["visitors"], "date_range": NEW, "filters": [["is", "visit:source", ["Google"]]]}
    assert _query(harness, google)["results"][0]["metrics"] == [
        2 * column_sum(SOURCES, "visitors", {"source": "Google"})
    ]
    assert delete_import(harness.store, SITE, other.import_id)
    assert not delete_import(harness.store, SITE, other.import_id)
    assert _query(harness, google)["results"][0]["metrics"] == [column_sum(SOURCES, "visitors", {"source": "Google"})]
    assert delete_import(harness.store, SITE, first.import_id)
    assert list_imports(harness.store, SITE) == []
    assert _query(harness, body)["meta"]["imports_skip_reason"] == "no_imported_data"
    for table in plausible_import.TABLES:
        assert harness.store.query(f"SELECT count() FROM {table}") == [(0,)]


def _zip(files: dict[str, str]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize(
    ("source", "status", "message"),
    [
        (io.BytesIO(b"not a zip at all"), 400, "not a zip file"),
        (_zip({"notes.txt": "hello"}), 422, "not a file of a Plausible export"),
        (_zip({}), 422, "no imported_*.csv"),
        (_zip({VISITORS: '"date","visitors"\n"yesterday",1\n'}), 422, "is not a date"),
        (_zip({VISITORS: '"date","visitors"\n"2021-01-01",-3\n'}), 422, "out of range"),
        (_zip({VISITORS: '"date","visitors"\n"2021-01-01",many\n'}), 422, "not a whole number"),
        (_zip({VISITORS: '"date","visitors"\n"2021-01-01",1,2\n'}), 422, "fields where the header has"),
        (_zip({VISITORS: '"day","visitors"\n"2021-01-01",1\n'}), 422, "no date column"),
        (_zip({f"imported_visitors_{i:08d}_{i:08d}.csv": "date\n" for i in range(70)}), 413, "files"),
    ],
)
def test_bad_files_are_refused_and_leave_nothing(
    harness: Harness, source: io.BytesIO, status: int, message: str
) -> None:
    harness.add_site(SITE)
    with pytest.raises(ImportRefused) as refused:
        import_plausible_zip(harness.store, SITE, source)
    assert refused.value.status == status
    assert message in str(refused.value)
    assert list_imports(harness.store, SITE) == []
    assert harness.store.query("SELECT count() FROM imported_visitors") == [(0,)]


def test_a_zip_bomb_stops_at_the_limit(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    harness.add_site(SITE)
    monkeypatch.setattr(plausible_import, "MAX_UNCOMPRESSED_BYTES", 1 << 20)
    rows = '"date","visitors"\n' + '"2021-01-01",1\n' * 200_000  # 3 MB that deflate to a few kB
    bomb = _zip({VISITORS: rows})
    assert len(bomb.getvalue()) < 50_000
    with pytest.raises(ImportRefused) as refused:
        import_plausible_zip(harness.store, SITE, bomb)
    assert refused.value.status == 413
    # A member whose header understates its size is stopped while it is read, by the bytes it unpacks to.
    with zipfile.ZipFile(_zip({VISITORS: rows})) as archive, archive.open(VISITORS) as member:
        counted = plausible_import._Counted(member, [1000], lambda size: None)
        with pytest.raises(ImportRefused):
            while counted.read(4096):
                pass
