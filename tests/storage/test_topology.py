"""Hosts of a deployment: a single server and the embedded engine are one host, shard 1."""

import os
from pathlib import Path

from storage.dir_lock import lock_dir
from storage.store import Store
from storage.topology import address_of, on_each_host


def test_a_single_store_is_its_own_only_host(store: Store) -> None:
    assert store.cluster == ""
    [(shard, host, address)] = store.hosts()
    assert shard == 1 and host is store and address
    assert on_each_host(store, lambda target, suffix: (target, suffix)) == [(store, "")]


def test_addresses_leave_out_credentials() -> None:
    assert address_of("clickhouse://teller:secret@ch-1.internal:9000/analytics") == "ch-1.internal:9000"


def test_a_directory_lock_is_held_until_its_descriptor_closes(tmp_path: Path) -> None:
    directory = tmp_path / "new" / "dir"
    fd = lock_dir(directory, "lock")
    assert fd is not None and (directory / "lock").exists()
    assert lock_dir(directory, "lock") is None  # flock conflicts across open files, even in one process
    other = lock_dir(directory, "other")
    assert other is not None
    os.close(fd)
    again = lock_dir(directory, "lock")
    assert again is not None
    for held in (other, again):
        os.close(held)
