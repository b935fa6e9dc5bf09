"""The harness of the import tests keeps imported days for 20 years: Plausible's test files are of 2011
and 2021, older than the default 25 months the started retention job would delete them after."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import Harness

from storage.store import Store


@pytest.fixture
def harness(store: Store, tmp_path: Path) -> Iterator[Harness]:
    """A started Teller app on the store whose retention keeps the imports' old days."""
    teller_harness = Harness(store, tmp_path, retention_rollup_months=240)
    teller_harness.start()
    yield teller_harness
    teller_harness.stop()
