"""Shared pytest fixtures."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from clickhouse_driver import Client
from clickhouse_server import ThrowawayClickHouse, clickhouse_server_available
from harness import Harness

from storage.embedded import EmbeddedStore
from storage.migrations import migrate
from storage.server import ServerStore
from storage.store import Store

# --- ClickHouse server -----------------------------------------------------------------------------


def _server_required() -> bool:
    """Tell whether a missing clickhouse-server must fail the run instead of skipping (CI)."""
    return bool(os.environ.get("CI")) or os.environ.get("TELLER_REQUIRE_SERVER") == "1"


@pytest.fixture(scope="session")
def clickhouse_server() -> Iterator[ThrowawayClickHouse]:
    """Yield one throwaway ClickHouse server shared by the whole test session."""
    if not clickhouse_server_available():
        override = os.environ.get("TELLER_TEST_CLICKHOUSE_SERVER")
        message = (
            f"TELLER_TEST_CLICKHOUSE_SERVER={override} is not an executable file"
            if override
            else "clickhouse-server is not installed (install it with `.ci/apt-install clickhouse-server "
            "clickhouse-client` as root, or point TELLER_TEST_CLICKHOUSE_SERVER at a binary)"
        )
        if _server_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with ThrowawayClickHouse() as server:
        yield server


@pytest.fixture
def server_database(clickhouse_server: ThrowawayClickHouse) -> Iterator[str]:
    """Yield the clickhouse:// URL of a fresh, empty database that is dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    clickhouse_server.start()  # no-op unless an earlier test left the server stopped
    client = Client(host="127.0.0.1", port=clickhouse_server.tcp_port)
    try:
        client.execute(f"CREATE DATABASE {name}")
        yield clickhouse_server.database_url(name)
        clickhouse_server.start()
        client.execute(f"DROP DATABASE IF EXISTS {name}")
    finally:
        client.disconnect()


# --- Both engines ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def embedded_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One chdb data dir for the whole session: chdb allows a single data path per process."""
    return tmp_path_factory.mktemp("embedded")


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, embedded_data_dir: Path) -> Iterator[Store]:
    """A migrated, empty database on each engine: a fresh chdb database, then a fresh server database."""
    if request.param == "embedded":
        embedded = EmbeddedStore(embedded_data_dir, f"t_{uuid.uuid4().hex[:12]}")
        migrate(embedded)
        yield embedded
        embedded.drop_database()
        embedded.close()
    else:
        url = request.getfixturevalue("server_database")
        server = ServerStore(url)
        migrate(server)
        yield server
        server.close()


@pytest.fixture
def harness(store: Store, tmp_path: Path) -> Iterator[Harness]:
    """A started Teller app on the store, with a fixed clock and manual flushing."""
    teller_harness = Harness(store, tmp_path)
    teller_harness.start()
    yield teller_harness
    teller_harness.stop()
