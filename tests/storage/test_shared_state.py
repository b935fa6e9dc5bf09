"""Sites, API keys and salts live in ClickHouse, so every collector process sees the same ones."""

import datetime as dt

import pytest

from storage.api_keys import (
    create_api_key,
    hash_key,
    key_is_live,
    key_is_valid,
    list_api_keys,
    live_key_hashes,
    revoke_api_key,
)
from storage.salts import current_salts, delete_old_salts, ensure_salts
from storage.sites import add_site, list_sites, normalise_domain, remove_site
from storage.store import Store

NOON = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC).timestamp()
DAY = 86_400


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Example.COM", "example.com"),
        ("https://www.example.com/path", "example.com"),
        ("shop.example.no:443", "shop.example.no"),
    ],
)
def test_domains_are_normalised(given: str, stored: str) -> None:
    assert normalise_domain(given) == stored


@pytest.mark.parametrize("bad", ["", "not a domain", "-x.com", "a" * 300])
def test_invalid_domains_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        normalise_domain(bad)


def test_sites_add_update_remove(store: Store) -> None:
    add_site(store, "b.test")
    add_site(store, "a.test", "Europe/Oslo")
    add_site(store, "a.test", "UTC")
    assert [(s.domain, s.timezone) for s in list_sites(store)] == [("a.test", "UTC"), ("b.test", "UTC")]
    remove_site(store, "b.test")
    assert [s.domain for s in list_sites(store)] == ["a.test"]
    with pytest.raises(ValueError, match="time zone"):
        add_site(store, "c.test", "Mars/Olympus")


def test_api_keys_are_stored_hashed(store: Store) -> None:
    key = create_api_key(store, "reporting")
    assert key.startswith("tlr_") and len(key) > 40
    stored = store.query("SELECT key_hash, name FROM api_keys")
    assert stored == [(hash_key(key), "reporting")]
    assert key not in str(stored)
    hashes = live_key_hashes(store)
    assert key_is_valid(key, hashes) and not key_is_valid(key + "x", hashes)
    assert key_is_live(store, hash_key(key))
    assert [name for _, name, _ in list_api_keys(store)] == ["reporting"]
    revoke_api_key(store, hash_key(key))
    assert live_key_hashes(store) == set() and not key_is_live(store, hash_key(key))


def test_salts_are_shared_and_deleted_after_two_days(store: Store) -> None:
    first = ensure_salts(store, NOON)
    today = dt.date(2026, 11, 20)
    assert set(first) == {today, today + dt.timedelta(days=1)}
    assert all(len(salt) == 32 for salt in first.values())
    # A second process (same store) sees the same salts and creates none.
    assert ensure_salts(store, NOON + 60) == first
    # A racing candidate for today: the smallest salt wins everywhere.
    store.insert("salts", ["day", "salt", "created_at"], [[today], ["00" * 32], [int(NOON)]])
    assert current_salts(store, today)[today] == bytes(32)
    # Next day: yesterday's salt is kept (visits across midnight), tomorrow's is created.
    later = ensure_salts(store, NOON + DAY)
    assert set(later) == {today, today + dt.timedelta(days=1), today + dt.timedelta(days=2)}
    # Two days on, the first day's salts are deleted.
    delete_old_salts(store, NOON + 2 * DAY)
    remaining = {row[0] for row in store.query("SELECT toString(day) FROM salts")}
    assert "2026-11-20" not in remaining
    assert remaining == {"2026-11-21", "2026-11-22"}
