"""Site-search terms: normalisation, scrubbing, extraction from URLs, and the summing buffer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from collector.ingest.batcher import Batcher, BufferFull
from collector.ingest.search_sink import SEARCH_COLUMNS, SearchSumSink, local_day, search_row
from collector.ingest.search_terms import (
    MAX_TERM,
    Search,
    clean_props,
    explicit_search,
    normalise_term,
    page_term,
    strip_search_params,
    term_in_query,
)
from storage.search_params import DEFAULT_SEARCH_PARAMS, parse_search_params, search_names
from storage.store import StoreError

DEFAULTS = search_names("")


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        # Trim, collapse whitespace (any Unicode space), lower-case.
        ("  Blåbær   SYLTETØY ", "blåbær syltetøy"),
        ("ÆØÅ æøå", "æøå æøå"),
        ("Kjøkken\u00a0\tbenk\n", "kjøkken benk"),
        ("Straße", "straße"),
        # NFKC: a decomposed å and full-width letters end up as the composed, plain forms.
        ("bla\u030abær", "blåbær"),
        ("ＮＡＶ", "nav"),
        # Invisible characters cannot split a number to dodge scrubbing.
        ("4123\u200b4567", "[phone]"),
        ("søk\u00adnad", "søknad"),
        ("\x00\x07", ""),
        ("   ", ""),
        # E-mail addresses.
        ("ola.nordmann@nav.no", "[email]"),
        ("Kontakt OLA.Nordmann+x@Example.co.uk i dag", "kontakt [email] i dag"),
        ("@nav", "@nav"),
        # Norwegian phone numbers.
        ("41234567", "[phone]"),
        ("ring 412 34 567", "ring [phone]"),
        ("22 22 22 22", "[phone]"),
        ("4123-4567", "[phone]"),
        # International phone numbers.
        ("+47 412 34 567", "[phone]"),
        ("+4741234567", "[phone]"),
        ("0047 41234567", "[phone]"),
        ("+44 20 7946 0958", "[phone]"),
        ("+1 (555) 123-4567", "[phone]"),
        ("(555) 123-4567", "[phone]"),
        # National identity numbers (fødselsnummer, D-number): 11 digits.
        ("01019012345", "[id]"),
        ("fødselsnummer 010190 12345", "fødselsnummer [id]"),
        # Card-like and other long digit runs.
        ("4111 1111 1111 1111", "[number]"),
        ("4111-1111-1111-1111", "[number]"),
        ("kort 4111111111111111 utløper", "kort [number] utløper"),
        ("ordre 1234567", "ordre [number]"),
        ("123-45-6789", "[number]"),
        ("iban no93 8601 1117 947", "iban no[number]"),
        # Full dates.
        ("17.05.1990", "[date]"),
        ("født 1990-05-17", "født [date]"),
        # What stays: short numbers, years, year ranges, postcodes, form and case numbers.
        ("iphone 15", "iphone 15"),
        ("covid-19", "covid-19"),
        ("budsjett 2023-2024", "budsjett 2023-2024"),
        ("budsjett 2023 2024", "budsjett 2023 2024"),
        ("0150 oslo", "0150 oslo"),
        ("nav 08-07.05", "nav 08-07.05"),
        ("sak 2023/1234", "sak 2023/1234"),
        ("123456", "123456"),
        ("skjema (2024)", "skjema (2024)"),
    ],
)
def test_normalise_and_scrub(raw: str, stored: str) -> None:
    assert normalise_term(raw) == stored


def test_long_terms_are_capped_after_scrubbing() -> None:
    assert normalise_term("x" * 500) == "x" * MAX_TERM
    # The number is replaced before the cut, so no part of it survives.
    assert normalise_term("a " * 46 + "41234567 tail") == "a " * 46 + "[phone]"
    # A placeholder cut in half is dropped rather than left as "[pho".
    assert normalise_term("b" * 95 + " 41234567") == "b" * 95


@pytest.mark.parametrize(
    ("query", "term"),
    [
        ("q=hello", "hello"),
        ("page=2&query=Hello+World", "Hello World"),
        ("s%C3%B8k=bl%C3%A5b%C3%A6r", "blåbær"),
        ("s%F8k=bl%E5b%E6r", "blåbær"),  # an ISO-8859-1 search form
        ("sok=r%C3%B8dgr%C3%B8t", "rødgrøt"),
        ("Q=Upper", "Upper"),
        ("q=&s=second", "second"),
        ("q=+&searchword=x", "x"),
        ("keyword=a&q=b", "a"),
        ("page=2", None),
        ("", None),
        ("qq=no", None),
    ],
)
def test_term_in_query(query: str, term: str | None) -> None:
    assert term_in_query(query, DEFAULTS) == term


def test_default_names() -> None:
    assert frozenset(("q", "query", "s", "search", "searchword", "k", "keyword", "sok", "søk")) == DEFAULTS
    assert frozenset(DEFAULT_SEARCH_PARAMS) == DEFAULTS
    assert search_names("-") == frozenset()
    assert search_names("find,q") == frozenset({"find", "q"})


def test_page_term() -> None:
    assert page_term("https://x.no/sok?q=Blåbær%20SYLTETØY", False, DEFAULTS) == "blåbær syltetøy"
    assert page_term("https://x.no/sok?q=41234567", False, DEFAULTS) == "[phone]"
    assert page_term("https://x.no/", False, DEFAULTS) == ""
    assert page_term("https://x.no/?q=a", False, frozenset()) == ""
    # The #fragment's query counts only for hash-routed sites.
    assert page_term("https://x.no/#/sok?q=fragment", True, DEFAULTS) == "fragment"
    assert page_term("https://x.no/#/sok?q=fragment", False, DEFAULTS) == ""
    assert page_term("https://x.no/?q=first#/sok?q=second", True, DEFAULTS) == "first"


@pytest.mark.parametrize(
    ("url", "stripped"),
    [
        ("/sok", "/sok"),
        ("/#/sok?q=term", "/#/sok"),
        ("/#/sok?page=2&q=term&sort=new", "/#/sok?page=2&sort=new"),
        ("/#/sok?s%C3%B8k=term", "/#/sok"),
        ("https://x.no/a?q=term&utm_source=n#top", "https://x.no/a?utm_source=n#top"),
        ("https://x.no/a?Q=term#/b?query=t&x=1", "https://x.no/a#/b?x=1"),
        ("https://x.no/a?page=2", "https://x.no/a?page=2"),
        ("/is this a question?", "/is this a question?"),
    ],
)
def test_strip_search_params(url: str, stripped: str) -> None:
    assert strip_search_params(url, DEFAULTS) == stripped


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("", ""),
        ("  ", ""),
        ("-", "-"),
        ("q,query", "q,query"),
        (" Q , find,,q ", "q,find"),
        ("søk", "søk"),
    ],
)
def test_parse_search_params(given: str, stored: str) -> None:
    assert parse_search_params(given) == stored


@pytest.mark.parametrize("given", ["utm_term", "q,a=b", "a b", "x" * 65, ",".join(f"p{i}" for i in range(21))])
def test_parse_search_params_rejects(given: str) -> None:
    with pytest.raises(ValueError):
        parse_search_params(given)


@pytest.mark.parametrize(
    ("props", "url_term", "expected"),
    [
        ({"term": "Tyttebær", "results": "0"}, "", Search("tyttebær", 1, 1)),
        ({"term": "Tyttebær", "results": "12"}, "", Search("tyttebær", 1, 0)),
        ({"term": "Tyttebær", "results": "0.0"}, "", Search("tyttebær", 1, 1)),
        ({"term": "Tyttebær"}, "", Search("tyttebær", 1, 0)),
        ({"term": "Tyttebær", "results": "many"}, "", Search("tyttebær", 1, 0)),
        ({"term": "Tyttebær", "results": "-1"}, "", Search("tyttebær", 1, 0)),
        # The pageview of the same URL already counted the search: only the zero-result count is added.
        ({"term": "TYTTEBÆR ", "results": "0"}, "tyttebær", Search("tyttebær", 0, 1)),
        ({"term": "other", "results": "0"}, "tyttebær", Search("other", 1, 1)),
        ({"term": "  "}, "", None),
        ({"results": "0"}, "", None),
    ],
)
def test_explicit_search(props: dict[str, str], url_term: str, expected: Search | None) -> None:
    assert explicit_search(props, url_term) == expected


def test_clean_props() -> None:
    keys = ["title", "plan", "link", "note", "back", "words"]
    values = [
        "Søk: TYTTEBÆR i butikken",
        "pro",
        "https://x.no/a?q=other&id=3",
        "/b?s=x",
        "/c?q=Tytteb%C3%A6r",
        "grøt med tyttebær",
    ]
    assert clean_props(keys, values, "tyttebær", DEFAULTS) == (
        ["plan", "link", "note", "back"],
        ["pro", "https://x.no/a?id=3", "/b", "/c"],
    )
    # Every word of the term must be present; placeholders are not looked for.
    assert clean_props(["a", "b"], ["tyttebær og grøt", "bare grøt"], "grøt tyttebær", DEFAULTS) == (
        ["b"],
        ["bare grøt"],
    )
    assert clean_props(["a"], ["ring 41234567"], "[phone]", DEFAULTS) == (["a"], ["ring 41234567"])
    assert clean_props(["a"], ["/b?q=x"], "", frozenset()) == (["a"], ["/b?q=x"])


class _FakeStore:
    """Records inserts, and refuses them while `down` is set."""

    engine = "fake"

    def __init__(self) -> None:
        self.inserts: list[tuple[str, list[str], list[list[Any]]]] = []
        self.down = False

    def insert(self, table: str, columns: list[str], data: Any) -> None:
        if self.down:
            raise StoreError("connection refused")
        self.inserts.append((table, list(columns), [list(column) for column in data]))


def test_search_sums_per_site_day_and_term() -> None:
    store = _FakeStore()
    buffer = Batcher(SearchSumSink(store), flush_rows=100, flush_interval=3600)  # type: ignore[arg-type]
    noon = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC).timestamp()
    buffer.add([search_row("a.no", "UTC", noon, Search("tyttebær", 1, 0))])
    buffer.add([search_row("a.no", "UTC", noon + 60, Search("tyttebær", 1, 1))])
    buffer.add([search_row("a.no", "UTC", noon, Search("blåbær", 0, 1))])
    buffer.add([search_row("a.no", "Pacific/Auckland", noon, Search("tyttebær", 1, 0))])  # already the 21st there
    assert len(buffer) == 3
    assert buffer.flush() == 3
    table, columns, data = store.inserts[0]
    assert table == "search_terms" and columns == list(SEARCH_COLUMNS)
    rows = sorted(zip(*data, strict=True))
    assert rows == [
        ("a.no", dt.date(2026, 11, 20), "blåbær", 0, 1),
        ("a.no", dt.date(2026, 11, 20), "tyttebær", 2, 1),
        ("a.no", dt.date(2026, 11, 21), "tyttebær", 1, 0),
    ]
    assert len(buffer) == 0 and buffer.flush() == 0


def test_search_sums_take_all_or_none_and_survive_a_failed_write() -> None:
    store = _FakeStore()
    buffer = Batcher(SearchSumSink(store), flush_rows=2, flush_interval=3600, max_rows=2)  # type: ignore[arg-type]
    day = dt.date(2026, 11, 20)
    buffer.add([("a.no", day, "x", 1, 0), ("a.no", day, "y", 1, 0)])
    with pytest.raises(BufferFull):
        buffer.add([("a.no", day, "x", 1, 0), ("a.no", day, "z", 1, 0)])  # z would be a third key: neither counts
    buffer.add([("a.no", day, "x", 1, 1)])  # a key already held is always counted
    store.down = True
    assert buffer.flush() == 0 and buffer.failed_flushes == 1 and len(buffer) == 2
    store.down = False
    assert buffer.flush() == 2 and buffer.written == 2
    assert sorted(zip(*store.inserts[-1][2], strict=True)) == [("a.no", day, "x", 2, 1), ("a.no", day, "y", 1, 0)]


def test_local_day() -> None:
    late = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC).timestamp()
    assert local_day(late, "UTC") == dt.date(2026, 11, 20)
    assert local_day(late, "Europe/Oslo") == dt.date(2026, 11, 21)
