"""CPU cost per request of the ASGI apps alone (no HTTP server, no network), and a profile of Teller's share.

    python -m loadtests.inproc --requests 50000 [--profile]

Other processes on the machine barely move these numbers, unlike req/s under wrk.
"""

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from loadtests.traffic import REGISTERED, Traffic

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def _scopes(hits: list[Any], path: str) -> list[tuple[dict[str, Any], bytes]]:
    """ASGI scopes and bodies as uvicorn builds them for the recorded requests."""
    out = []
    for hit in hits:
        body = hit.encoded()
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"text/plain"),
            (b"user-agent", hit.user_agent.encode()),
            (b"x-forwarded-for", hit.forwarded_for.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
            "method": "POST",
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
        }
        out.append((scope, body))
    return out


async def _drive(app: ASGIApp, requests: list[tuple[dict[str, Any], bytes]], count: int) -> tuple[float, float]:
    """Run count requests through app one after another; return CPU seconds of this thread and the process."""
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started, process_started = time.thread_time(), time.process_time()
    for index in range(count):
        scope, body = requests[index % len(requests)]
        sent = False

        async def receive(body: bytes = body) -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(dict(scope), receive, send)
    spent, process_spent = time.thread_time() - started, time.process_time() - process_started
    assert set(statuses) <= {202}, f"unexpected statuses {set(statuses)}"
    return spent, process_spent


def main() -> None:
    """Print µs of CPU per request for the bare endpoint and Teller (embedded engine)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--profile", action="store_true", help="profile Teller's run with pyinstrument")
    args = parser.parse_args()
    requests = _scopes(Traffic(seed=1).sample(20_000), "/api/event")

    from loadtests.bare_app import app as bare

    loop = asyncio.new_event_loop()
    loop.run_until_complete(_drive(bare, requests, 5_000))
    bare_cpu, _ = loop.run_until_complete(_drive(bare, requests, args.requests))
    print(f"bare:   {bare_cpu / args.requests * 1e6:6.1f} us CPU per request")

    os.environ.update(TELLER_SITES=",".join(REGISTERED), TELLER_TRUSTED_PROXIES="127.0.0.1")
    os.environ["TELLER_DATA_DIR"] = str(Path(tempfile.mkdtemp(prefix="teller-inproc-")) / "data")
    from teller.app import create_app
    from teller.settings import Settings

    app = create_app(Settings())
    teller = app.state.teller
    teller.start()
    try:
        loop.run_until_complete(_drive(app, requests, 5_000))
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
        cpu, process_cpu = loop.run_until_complete(_drive(app, requests, args.requests))
        print(
            f"teller: {cpu / args.requests * 1e6:6.1f} us CPU per request, "
            f"{process_cpu / args.requests * 1e6:.1f} us with the flush thread and the engine"
        )
        if args.profile:
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False))
    finally:
        teller.stop()


if __name__ == "__main__":
    main()
