"""Parameters are escaped client-side and survive a round trip through both engines."""

import datetime as dt

import pytest

from storage.sql import quote, substitute
from storage.store import Store

AWKWARD = ["it's", "back\\slash", "tab\tnew\nline", "nul\x00byte", "quote''twice", "æøå ÆØÅ 🙂", "'; DROP TABLE x; --"]


@pytest.mark.parametrize("value", AWKWARD)
def test_strings_round_trip(store: Store, value: str) -> None:
    assert store.query("SELECT %(v)s", {"v": value}) == [(value,)]


def test_numbers_dates_and_tuples(store: Store) -> None:
    rows = store.query(
        "SELECT %(i)s, %(f)s, toString(toDate(%(d)s)), 2 IN %(t)s, 5 IN %(t)s",
        {"i": -42, "f": 1.5, "d": dt.date(2026, 11, 20), "t": (1, 2)},
    )
    assert rows == [(-42, 1.5, "2026-11-20", 1, 0)]


def test_single_item_tuple_and_missing_parameter() -> None:
    assert quote(("a",)) == "('a')"
    with pytest.raises(KeyError):
        substitute("SELECT %(missing)s", {"other": 1})
    with pytest.raises(ValueError):
        quote([])
    with pytest.raises(TypeError):
        quote(object())
