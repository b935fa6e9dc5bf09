"""Login attempts on both engines: reserved, refused and succeeded rows, counted per key; old days dropped."""

import datetime as dt

from storage.login_attempts import counted_attempts, drop_old_attempts, refuse, reserve, succeed
from storage.store import Store

NOON = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC).timestamp()


def test_refused_attempts_leave_the_count_and_successes_are_marked(store: Store) -> None:
    kept = reserve(store, ["a", "b"], NOON)
    refused = reserve(store, ["a", "b"], NOON + 1)
    refuse(store, refused)
    won = reserve(store, ["a"], NOON + 2)
    succeed(store, won)
    reserve(store, ["c"], NOON - 3600)
    found = counted_attempts(store, ["a", "b", "c", "d"], NOON - 60)
    assert sorted((a.attempt_id, a.ts, a.succeeded) for a in found["a"]) == sorted(
        [(kept.attempt_id, int(NOON), False), (won.attempt_id, int(NOON + 2), True)]
    )
    assert [(a.attempt_id, a.seq) for a in found["b"]] == [(kept.attempt_id, kept.seq)]
    assert found["c"] == found["d"] == []
    assert kept.seq < refused.seq < won.seq


def test_days_before_yesterday_are_dropped(store: Store) -> None:
    for days in (3, 2, 1, 0):
        reserve(store, ["a"], NOON - days * 86_400)
    drop_old_attempts(store, NOON)
    rows = store.query("SELECT toString(toDate(ts)) FROM login_attempts ORDER BY ts")
    assert rows == [("2026-11-19",), ("2026-11-20",)]
