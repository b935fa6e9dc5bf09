"""Filter SQL on both engines (chdb 26.x and a 18.16 server): every operator, case, nesting, odd values, regexes."""

import datetime as dt
import time
from typing import Any

import pytest

from collector.ingest.event import EVENT_COLUMNS, Event
from dashboard.filters import Filter, FilterNode, filter_dimensions, filters_sql, regex_problem
from dashboard.planner import column_on_events
from dashboard.query import parse_query
from dashboard.registry import dimension
from storage.store import Store, StoreError

SITE = "filters.test"
NOW = int(time.time())
# (pathname, country, browser, custom properties)
ROWS = [
    ("/blog/Hello", "NO", "Firefox", {"author": "Ann"}),
    ("/blog/world", "SE", "Chrome", {"author": "bob"}),
    ("/Pricing", "NO", "Chrome", {}),
    ("/Ø/Æble", "DE", "Safari", {"author": "Åse"}),
    ("/it's \\ 100%", "", "Firefox", {}),
    ("/%(filter_0)s", "US", "Edge", {"kind": "x"}),
]
PATHS = [row[0] for row in ROWS]


def _insert(store: Store) -> None:
    events = [
        Event(
            site=SITE,
            ts=NOW,
            name="pageview",
            visitor_id=index + 1,
            pathname=path,
            country=country,
            browser=browser,
            prop_keys=list(props),
            prop_values=list(props.values()),
        ).row()
        for index, (path, country, browser, props) in enumerate(ROWS)
    ]
    store.insert("events", EVENT_COLUMNS, list(zip(*events, strict=True)))


def _column_of(params: dict[str, Any]) -> Any:
    """Events columns of the registry; a custom property as the planner builds it, its key bound."""

    def column(name: str) -> str:
        declared = dimension(name)
        assert declared is not None
        if declared.on_events == "":
            params[f"prop_{len(params)}"] = name.split(":", 2)[2]
            return f"prop_values[indexOf(prop_keys, %(prop_{len(params) - 1})s)]"
        assert declared.on_events is not None
        return declared.on_events

    return column


def _parsed(filters: list[Any]) -> tuple[Any, ...]:
    """Filters as parse_query validates them."""
    body = {"site_id": SITE, "metrics": ["visitors"], "date_range": "day", "filters": filters}
    return parse_query(body, {SITE: "UTC"}, lambda tz: dt.date.today()).filters


def _paths(store: Store, filters: list[Any]) -> set[str]:
    """Paths of the rows the filters keep."""
    params: dict[str, Any] = {"site": SITE}
    condition = filters_sql(_parsed(filters), _column_of(params), params)
    sql = f"SELECT pathname FROM events WHERE site = %(site)s AND {condition}"
    return {row[0] for row in store.query(sql, params)}


def _except(*paths: str) -> set[str]:
    return set(PATHS) - set(paths)


CASES: list[tuple[list[Any], set[str]]] = [
    ([], set(PATHS)),
    # is / is_not: one value, several (IN), case-sensitive unless told.
    ([["is", "event:page", ["/Pricing"]]], {"/Pricing"}),
    ([["is", "event:page", ["/pricing"]]], set()),
    ([["is", "event:page", ["/pricing"], {"case_sensitive": False}]], {"/Pricing"}),
    ([["is", "event:page", ["/pricing", "/blog/world", "/nowhere"]]], {"/blog/world"}),
    ([["is", "event:page", ["/ø/æBLE", "/PRICING"], {"case_sensitive": False}]], {"/Ø/Æble", "/Pricing"}),
    ([["is_not", "event:page", ["/Pricing", "/blog/world"]]], _except("/Pricing", "/blog/world")),
    ([["is_not", "event:page", ["/PRICING"], {"case_sensitive": False}]], _except("/Pricing")),
    ([["is_not", "event:page", ["/PRICING"]]], set(PATHS)),
    # contains / contains_not.
    ([["contains", "event:page", ["blog"]]], {"/blog/Hello", "/blog/world"}),
    ([["contains", "event:page", ["BLOG"]]], set()),
    ([["contains", "event:page", ["BLOG"], {"case_sensitive": True}]], set()),
    ([["contains", "event:page", ["BLOG"], {"case_sensitive": False}]], {"/blog/Hello", "/blog/world"}),
    ([["contains", "event:page", ["hello", "æble"], {"case_sensitive": False}]], {"/blog/Hello", "/Ø/Æble"}),
    ([["contains_not", "event:page", ["blog", "Pricing"]]], _except("/blog/Hello", "/blog/world", "/Pricing")),
    ([["contains_not", "event:page", ["BLOG"], {"case_sensitive": False}]], _except("/blog/Hello", "/blog/world")),
    ([["contains", "visit:browser", ["fox"]]], {"/blog/Hello", "/it's \\ 100%"}),
    # matches / matches_not (re2, unanchored; case-insensitive through (?i)).
    ([["matches", "event:page", ["^/blog/[a-z]+$"]]], {"/blog/world"}),
    ([["matches", "event:page", ["^/BLOG/"], {"case_sensitive": False}]], {"/blog/Hello", "/blog/world"}),
    ([["matches", "event:page", ["(?s)^/BLOG/h"], {"case_sensitive": False}]], {"/blog/Hello"}),
    ([["matches", "event:page", ["^/P", "Æ"]]], {"/Pricing", "/Ø/Æble"}),
    ([["matches", "event:page", ["(?i)^/BLOG/h", "^/blog/(?i)WORLD"]]], {"/blog/Hello", "/blog/world"}),
    ([["matches", "event:page", ["hello|^/p"], {"case_sensitive": False}]], {"/blog/Hello", "/Pricing"}),
    ([["matches", "event:page", ["^/\\pL/"]]], {"/Ø/Æble"}),
    ([["matches_not", "event:page", ["^/blog"]]], _except("/blog/Hello", "/blog/world")),
    ([["matches_not", "event:page", ["^/BLOG", "ING$"], {"case_sensitive": False}]], _except(*PATHS[:3])),
    # Countries; "" is the unknown one.
    ([["is", "visit:country", ["NO"]]], {"/blog/Hello", "/Pricing"}),
    ([["is", "visit:country", ["no", "us"], {"case_sensitive": False}]], {"/blog/Hello", "/Pricing", "/%(filter_0)s"}),
    ([["is", "visit:country", [""]]], {"/it's \\ 100%"}),
    # Values that SQL, the placeholder syntax or a regex would misread.
    ([["is", "event:page", ["/it's \\ 100%"]]], {"/it's \\ 100%"}),
    ([["is", "event:page", ["/%(filter_0)s"]]], {"/%(filter_0)s"}),
    ([["contains", "event:page", ["\\", "'"]]], {"/it's \\ 100%"}),
    ([["matches", "event:page", ["\\\\ 100%$"]]], {"/it's \\ 100%"}),
    # Custom properties ("" where the event has none).
    ([["is", "event:props:author", ["Ann"]]], {"/blog/Hello"}),
    ([["is", "event:props:author", ["ann", "BOB", "åse"], {"case_sensitive": False}]], set(PATHS[:2]) | {"/Ø/Æble"}),
    ([["is", "event:props:author", [""]]], {"/Pricing", "/it's \\ 100%", "/%(filter_0)s"}),
    ([["contains_not", "event:props:kind", ["x"]], ["matches", "event:props:author", ["^[A-Z]"]]], {"/blog/Hello"}),
    # Top level ANDed; and / or / not nested.
    ([["is", "visit:country", ["NO"]], ["contains", "event:page", ["blog"]]], {"/blog/Hello"}),
    (
        [
            [
                "or",
                [
                    ["is", "visit:country", ["SE"]],
                    ["and", [["contains", "event:page", ["Pric"]], ["is", "visit:browser", ["Chrome"]]]],
                ],
            ]
        ],
        {"/blog/world", "/Pricing"},
    ),
    ([["not", ["is", "visit:country", ["NO"]]]], _except("/blog/Hello", "/Pricing")),
    ([["not", ["or", [["is", "visit:country", ["NO"]], ["is", "visit:browser", ["Firefox"]]]]]], set(PATHS[1:6:2])),
    ([["and", [["is", "visit:browser", ["Chrome"]]]], ["not", ["not", ["is", "visit:country", ["SE"]]]]], {PATHS[1]}),
]


def test_every_operator_on_both_engines(store: Store) -> None:
    _insert(store)
    for filters, expected in CASES:
        assert _paths(store, filters) == expected, filters


def test_sql_binds_values_and_says_1_for_nothing() -> None:
    params: dict[str, Any] = {}
    assert filters_sql((), lambda name: "x", params) == "1" and params == {}
    sql = filters_sql(
        (Filter("is", "event:page", ("/a", "/b")), Filter("contains", "event:page", ("c",), case_sensitive=False)),
        lambda name: "pathname",
        params,
    )
    assert sql == "(pathname IN %(filter_0)s) AND (positionCaseInsensitiveUTF8(pathname, %(filter_1)s) > 0)"
    assert params == {"filter_0": ("/a", "/b"), "filter_1": "c"}
    # A second call on the same parameters picks fresh names.
    again = filters_sql((Filter("matches", "event:page", ("^/", "x"), case_sensitive=False),), lambda n: "p", params)
    assert again == "(match(p, %(filter_2)s) OR match(p, %(filter_3)s))"
    assert (params["filter_2"], params["filter_3"]) == ("(?i)(?:^/)", "(?i)(?:x)")


def test_filter_dimensions_names_every_leaf() -> None:
    tree = FilterNode(
        "or",
        (
            Filter("is", "visit:country", ("NO",)),
            FilterNode(
                "not", (FilterNode("and", (Filter("is", "event:page", ("/",)), Filter("is", "event:name", ("x",)))),)
            ),
        ),
    )
    assert filter_dimensions((tree, Filter("is", "event:props:a", ("b",)))) == {
        "visit:country",
        "event:page",
        "event:name",
        "event:props:a",
    }
    assert filter_dimensions(()) == set()


def test_filters_run_on_the_planners_event_columns(store: Store) -> None:
    _insert(store)
    params: dict[str, Any] = {"site": SITE}
    condition = filters_sql(
        (Filter("is_not", "visit:country", ("NO",)),), lambda d: column_on_events(d, params), params
    )
    rows = store.query(f"SELECT count() FROM events WHERE site = %(site)s AND {condition}", params)
    assert rows == [(4,)]


# What validation refuses, ClickHouse's match() refuses too (re2, the same on 18.16 and 26.x) ...
REFUSED = [
    "(?=a)",
    "(?!a)",
    "(?<=a)b",
    "(?<!a)b",
    "(a)\\1",
    "(?P<n>a)(?P=n)",
    "(?>a)",
    "(?#c)a",
    "(?x)a",
    "(?a)a",
    "a++",
    "a*+",
    "a?+",
    "a{2}+",
    "a{1001}",
    "a\\Z",
    "\\u0041",
    "[\\u0041]",
    "\\U00000041",
    "\\N{LATIN SMALL LETTER A}",
    "(",
    "[a",
]
# ... and what it accepts, ClickHouse compiles.
ACCEPTED = [
    "^/blog/[a-z0-9-]+$",
    "(?i)ab",
    "(?i:a)b",
    "(?-i:a)",
    "(?ims)^a.",
    "a(?i)b",
    "^/x(?-s).(?i-m)y",
    "[(?i)]",
    "(?P<n>a)",
    "a\\z",
    "\\pL",
    "\\p{Greek}",
    "[[:alpha:]]",
    "[]a]",
    "[^]a]",
    "\\(?=x",
    "[(?=]",
    "\\\\1",
    "a{1000}",
    "a{2,3}?",
    "a*?",
    "\\x41\\b\\A\\0",
    "\\d+\\s\\w",
]


def test_regex_checks_agree_with_clickhouse(store: Store) -> None:
    for pattern in REFUSED:
        assert regex_problem(pattern), pattern
        with pytest.raises(StoreError):
            store.query("SELECT match('abc', %(p)s)", {"p": pattern})
    for pattern in ACCEPTED:
        assert regex_problem(pattern) is None, pattern
        store.query("SELECT match('abc', %(p)s)", {"p": pattern})
        store.query("SELECT match('abc', %(p)s)", {"p": "(?i)" + pattern})
    # {,n} is refused although re2 compiles it: Python reads a repetition, re2 literal text.
    assert regex_problem("a{,3}") and store.query("SELECT match('a{,3}', %(p)s)", {"p": "^a{,3}$"}) == [(1,)]
