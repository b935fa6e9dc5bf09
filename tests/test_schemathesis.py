"""Generated requests against Teller's own OpenAPI schema: no input may cause a server error."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from harness import FIREFOX, Harness
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from storage.embedded import EmbeddedStore
from storage.migrations import migrate

# Per operation and generation mode; 3 operations x 2 modes x 200 is well over 1,000 requests a run.
EXAMPLES = 200


@pytest.fixture(scope="module")
def teller_app(embedded_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """A started Teller on an embedded database of its own, with a site and an API key."""
    store = EmbeddedStore(embedded_data_dir, "t_schemathesis")
    migrate(store)
    harness = Harness(store, tmp_path_factory.mktemp("schemathesis"), rate_limit=0)
    harness.start()
    harness.add_site("example.com")
    yield harness
    harness.stop()
    store.drop_database()
    store.close()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_no_server_errors(teller_app: Harness, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_dict(teller_app.app.openapi())
    headers = {"Authorization": f"Bearer {teller_app.api_key}", "User-Agent": FIREFOX}
    client = teller_app.client()
    statuses: list[int] = []
    nothing_to_break: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/event", "/api/events", "/api/v2/query"}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: schemathesis.Case) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
            kwargs.pop("base_url", None)
            if not kwargs.get("cookies"):
                kwargs.pop("cookies", None)
            response = client.request(**kwargs)
            statuses.append(response.status_code)
            assert response.status_code < 500, (case.path, case.body, response.text)

        try:
            call()
        except Unsatisfiable:
            # An operation whose only inputs are path strings has no invalid form to generate.
            assert mode == GenerationMode.NEGATIVE, operation.path
            nothing_to_break.append(operation.path)
    assert {"/api/event", "/api/events", "/api/v2/query"}.isdisjoint(nothing_to_break)
    generated = len(operations) - len(nothing_to_break)
    assert len(statuses) >= generated * EXAMPLES * 0.9, len(statuses)
    assert 400 in statuses
