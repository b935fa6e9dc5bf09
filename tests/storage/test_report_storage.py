"""Segments, report subscriptions and report claims on both engines."""

import threading

import pytest

from storage.report_claims import claim, claimed, last_noted_time
from storage.report_subscriptions import add_subscription, list_subscriptions, remove_subscription
from storage.segments import create_segment, delete_segment, list_segments
from storage.store import Store


def test_segments_are_per_site_and_deleted_for_everyone(store: Store) -> None:
    filters = [["is_not", "source", ["Google", "Bing"]], ["contains", "page", ["/blog"]]]
    first = create_segment(store, "a.test", "  Blog   readers ", filters, "editor@example.com")
    create_segment(store, "b.test", "Other site", [["is", "country", ["NO"]]], "editor@example.com")
    [found] = list_segments(store, "a.test")
    assert (found.id, found.name, found.filters, found.created_by) == (
        first.id,
        "Blog readers",
        filters,
        "editor@example.com",
    )
    for name, chosen in (("", filters), ("x" * 101, filters), ("No filters", [])):
        with pytest.raises(ValueError):
            create_segment(store, "a.test", name, chosen, "editor@example.com")
    delete_segment(store, found)
    assert list_segments(store, "a.test") == []
    assert [s.name for s in list_segments(store, "b.test")] == ["Other site"]


def test_subscriptions(store: Store) -> None:
    add_subscription(store, "a.test", "weekly", " Editor@Example.com ")
    add_subscription(store, "a.test", "spike", "ops@example.com", threshold=100, every_hours=6)
    add_subscription(store, "a.test", "spike", "ops@example.com", threshold=200, every_hours=3)  # replaces
    add_subscription(store, "b.test", "monthly", "boss@example.com")
    subs = list_subscriptions(store, "a.test")
    assert [(s.kind, s.address, s.threshold, s.every_hours) for s in subs] == [
        ("spike", "ops@example.com", 200, 3),
        ("weekly", "editor@example.com", 0, 0),
    ]
    assert len(list_subscriptions(store)) == 3
    for kind, address, threshold in (("daily", "a@b.c", 0), ("weekly", "not an address", 0), ("spike", "a@b.c", 0)):
        with pytest.raises(ValueError):
            add_subscription(store, "a.test", kind, address, threshold)
    assert remove_subscription(store, "a.test", "weekly", "EDITOR@example.com")
    assert not remove_subscription(store, "a.test", "weekly", "editor@example.com")
    assert [s.kind for s in list_subscriptions(store, "a.test")] == ["spike"]


def test_concurrent_claims_have_one_winner_per_key(store: Store) -> None:
    keys = [f"weekly\ta.test\t2026-11-16\t{n}" for n in range(8)]
    won: list[set[str]] = []
    threads = [
        threading.Thread(target=lambda n=n: won.append(claim(store, keys, noted_at=1_800_000_000 + n)))
        for n in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(key for keys_won in won for key in keys_won) == sorted(keys)  # each key exactly once
    assert claimed(store, keys) == set(keys)
    assert claim(store, keys) == set()  # claimed before: nobody sends again
    assert last_noted_time(store, "weekly\ta.test\t") in {1_800_000_000 + n for n in range(3)}
    assert last_noted_time(store, "monthly\t") is None
