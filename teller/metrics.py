"""Prometheus metrics, read from the counters the ingest path keeps anyway (nothing is added per event).

With several worker processes each one publishes a snapshot file every few seconds and /metrics sums
the snapshots of every live worker.
"""

import os
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

PUBLISH_INTERVAL = 5.0


def snapshot(teller: Any) -> dict[str, Any]:
    """This process's counters and gauges."""
    buffer, searches, service = teller.buffer, teller.searches, teller.ingest
    return {
        "accepted": service.accepted,
        "dropped": dict(service.dropped),
        "buffer_rows": len(buffer) + len(searches),
        "flushes": buffer.flushes + searches.flushes,
        "flush_seconds": buffer.flush_seconds + searches.flush_seconds,
        "rows_written": buffer.written,
        "clickhouse_errors": buffer.failed_flushes + searches.failed_flushes,
        "spool_bytes": buffer.sink.spool.bytes,
        "spool_segments": buffer.sink.backlog_segments,
    }


def combine(snapshots: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum snapshots of several processes."""
    total: dict[str, Any] = {"dropped": Counter()}
    for item in snapshots:
        for key, value in item.items():
            if key == "dropped":
                total["dropped"].update(value)
            else:
                total[key] = total.get(key, 0) + value
    return total


class TellerCollector:
    """A prometheus_client collector over snapshots."""

    def __init__(self, read: Any) -> None:
        self.read = read

    def collect(self) -> Any:
        """Metric families from the current snapshots."""
        data = combine(self.read())
        accepted = CounterMetricFamily("teller_events_accepted", "Events buffered for ClickHouse.")
        accepted.add_metric([], data.get("accepted", 0))
        yield accepted
        dropped = CounterMetricFamily("teller_events_dropped", "Events not stored, by reason.", labels=["reason"])
        for reason, count in sorted(data["dropped"].items()):
            dropped.add_metric([reason], count)
        yield dropped
        written = CounterMetricFamily("teller_rows_written", "Event rows written to ClickHouse.")
        written.add_metric([], data.get("rows_written", 0))
        yield written
        flushes = CounterMetricFamily("teller_flushes", "Batches written to ClickHouse.")
        flushes.add_metric([], data.get("flushes", 0))
        yield flushes
        seconds = CounterMetricFamily("teller_flush_seconds", "Seconds spent writing batches (divide by flushes).")
        seconds.add_metric([], data.get("flush_seconds", 0.0))
        yield seconds
        errors = CounterMetricFamily("teller_clickhouse_errors", "Failed writes to ClickHouse.")
        errors.add_metric([], data.get("clickhouse_errors", 0))
        yield errors
        for name, key, text in (
            ("teller_buffer_rows", "buffer_rows", "Rows held in memory for the next write."),
            ("teller_spool_bytes", "spool_bytes", "Bytes in the write-ahead spool."),
            ("teller_spool_segments", "spool_segments", "Spool segments waiting for ClickHouse."),
        ):
            gauge = GaugeMetricFamily(name, text)
            gauge.add_metric([], data.get(key, 0))
            yield gauge


class Metrics:
    """Renders /metrics for this process, or for every worker when a snapshot directory is set."""

    def __init__(self, teller: Any, directory: Path | None = None) -> None:
        self.teller = teller
        self.directory = directory
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(TellerCollector(self._snapshots))

    def _snapshots(self) -> list[dict[str, Any]]:
        """This process's live snapshot plus the published ones of other live workers."""
        own = snapshot(self.teller)
        if self.directory is None:
            return [own]
        found = [own]
        for path in self.directory.glob("*.json"):
            pid = int(path.stem)
            if pid == os.getpid():
                continue
            if not Path(f"/proc/{pid}").exists():
                path.unlink(missing_ok=True)
                continue
            try:
                found.append(orjson.loads(path.read_bytes()))
            except (OSError, orjson.JSONDecodeError):
                continue
        return found

    def totals(self) -> dict[str, Any]:
        """The counters of this process and of every live worker, summed as /metrics sums them."""
        return combine(self._snapshots())

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)

    def publish(self) -> None:
        """Write this process's snapshot atomically (the job table runs this with several workers)."""
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{os.getpid()}.json"
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(snapshot(self.teller)))
        os.replace(temporary, target)

    def withdraw(self) -> None:
        """Remove this worker's snapshot (at shutdown)."""
        if self.directory is not None:
            (self.directory / f"{os.getpid()}.json").unlink(missing_ok=True)
