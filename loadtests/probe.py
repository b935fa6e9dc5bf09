"""`teller serve` plus a sampler thread that records the write buffer, the inserts and the RSS for the benchmark."""

import asyncio
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import teller.app

OUTPUT_ENV = "TELLER_BENCH_PROBE"
INTERVAL = 0.25
LAG_TICK = 0.01


def rss_kb(pid: int | str = "self") -> int:
    """Resident set size of a process in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Probe:
    """Appends one JSON line per sample: time, RSS, rows waiting in the buffer, rows written, inserts per table."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.teller: Any = None
        self.inserts: Counter[str] = Counter()
        self.insert_seconds: Counter[str] = Counter()
        self._stop = threading.Event()
        self.max_lag = 0.0  # the event loop's longest delay since the last sample, seconds

    def attach(self, teller: Any) -> None:
        """Time every insert of the store and start sampling."""
        self.teller = teller
        insert: Callable[..., None] = teller.store.insert

        def timed_insert(table: str, *args: Any) -> None:
            started = time.perf_counter()
            try:
                insert(table, *args)
            finally:
                self.inserts[table] += 1
                self.insert_seconds[table] += time.perf_counter() - started

        teller.store.insert = timed_insert
        stop: Callable[[], None] = teller.stop

        def stop_and_sample() -> None:
            stop()
            self._stop.set()
            self.sample()

        teller.stop = stop_and_sample
        threading.Thread(target=self._loop, name="bench-probe", daemon=True).start()

    def sample(self) -> None:
        """Write one sample line."""
        teller = self.teller
        line = {
            "t": time.time(),
            "rss_kb": rss_kb(),
            "backlog": len(teller.buffer),
            "written": teller.buffer.written,
            "accepted": teller.ingest.accepted,
            "dropped": sum(teller.ingest.dropped.values()),
            "inserts": dict(self.inserts),
            "insert_seconds": {table: round(seconds, 4) for table, seconds in self.insert_seconds.items()},
            "max_lag_ms": round(1000 * self.max_lag, 1),
        }
        self.max_lag = 0.0
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")

    def _loop(self) -> None:
        """Sample until the process exits."""
        while not self._stop.wait(INTERVAL):
            self.sample()


class LagMonitor:
    """ASGI middleware that, from the first request on, measures how late the event loop runs a 10 ms timer."""

    def __init__(self, app: Any, probe: Probe) -> None:
        self.app = app
        self.probe = probe
        self.started = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not self.started:
            self.started = True
            asyncio.get_running_loop().create_task(self._watch())
        await self.app(scope, receive, send)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(LAG_TICK)
            self.probe.max_lag = max(self.probe.max_lag, loop.time() - before - LAG_TICK)


def main() -> None:
    """Run `teller serve` with the given arguments and a probe writing to $TELLER_BENCH_PROBE."""
    probe = Probe(os.environ[OUTPUT_ENV])
    create_app = teller.app.create_app

    def probed_create_app(*args: Any, **kwargs: Any) -> Any:
        app = create_app(*args, **kwargs)
        probe.attach(app.state.teller)
        app.add_middleware(LagMonitor, probe=probe)
        return app

    teller.app.create_app = probed_create_app
    from teller.cli import main as teller_main

    sys.argv = ["teller", "serve", *sys.argv[1:]]
    teller_main()


if __name__ == "__main__":
    main()
