"""Latency of single events while batches arrive, and the server's memory, on a real `teller serve`.

    python -m loadtests.batch_pressure                          # this checkout
    python -m loadtests.batch_pressure --checkout /tmp/old      # another one, e.g. `git worktree add /tmp/old HEAD`

One asyncio client sends single events at a fixed rate over keep-alive connections and times each from
its scheduled send (so a stalled server counts against it, not in its favour); a second process sends
batches from several connections at once, as fast as they are answered. Phases, one after the other:

- idle: single events alone;
- unknown: the largest batch the defaults take (1000 events of ~1 KB, just under 1 MiB), naming an
  unknown site: parsing and the pipeline's first steps, nothing stored;
- flood: 60 MB batches of 1000 events with 60 KB of padding each, naming an unknown site (the
  penetration test's request: the old limit, 64 MiB, took them);
- stored: the largest batch again, for a registered site: its rows are spooled and inserted too (last,
  as the inserts it starts go on after it).

The server runs on the embedded engine, pinned to one core, the clients to the other when there are two.
Its background jobs run hourly (unless --with-jobs): they are not what is measured. Beside the clients'
latencies, which other load on the machine inflates, the server reports its event loop's stalls as CPU
time: a 1 ms ticker on the loop records how much CPU the loop thread spent between two of its turns,
which waiting for a core does not add to. The longest stall is the longest the loop worked without
answering anything else.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loadtests.probe import rss_kb

ROOT = Path(__file__).resolve().parents[1]
SITE = "pressure.test"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SEND_CHUNK = 1 << 20


# Run with `python -c` in the served checkout, so an old checkout without this module can be measured:
# `teller serve`, its app wrapped so that the first ASGI call starts the ticker on uvicorn's loop. Once a
# second it appends a JSON line: the time, the ticks, and the stalls (CPU seconds) longer than 0.5 ms.
_SERVE_WITH_TICKER = """
import asyncio, json, os, sys, time
import teller.app

create_app = teller.app.create_app
out_path = os.environ["PRESSURE_STALLS"]


async def ticker():
    last, window, ticks, stalls = time.thread_time(), time.time(), 0, []
    while True:
        await asyncio.sleep(0.001)
        now = time.thread_time()
        ticks += 1
        if now - last > 0.0005:
            stalls.append(now - last)
        last = now
        if time.time() - window >= 1.0:
            with open(out_path, "a") as out:
                out.write(json.dumps({"t": time.time(), "ticks": ticks, "stalls": stalls}) + "\\n")
            window, ticks, stalls = time.time(), 0, []


def with_ticker(*args, **kwargs):
    app = create_app(*args, **kwargs)
    started = []

    async def wrapped(scope, receive, send):
        if not started:
            started.append(asyncio.get_running_loop().create_task(ticker()))
        await app(scope, receive, send)

    return wrapped


teller.app.create_app = with_ticker
from teller.cli import main

sys.argv = ["teller", "serve", *sys.argv[1:]]
main()
"""


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    single_sent: int = 0
    single_errors: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    batches: dict[str, int] = field(default_factory=dict)
    batch_median_s: float = 0.0
    rss_start_mb: float = 0.0
    rss_peak_mb: float = 0.0
    loop_stall_p99_ms: float = 0.0
    loop_stall_max_ms: float = 0.0


def max_batch(site: str) -> bytes:
    """1000 events of ~1 KB each (a 900-character property), just under 1 MiB."""
    events = [
        {
            "n": "pageview",
            "u": f"https://{site}/page/{i}",
            "d": site,
            "r": "https://www.google.com/",
            "p": {"note": "v" * 900},
        }
        for i in range(1000)
    ]
    return json.dumps(events, separators=(",", ":")).encode()


def flood_batch() -> bytes:
    """1000 events of 60 KB each (an unknown field the parser ignores) naming an unknown site: 60 MB."""
    event = json.dumps({"n": "pageview", "u": "https://nobody.test/", "d": "nobody.test", "x": "a" * 60_000})
    return ("[" + ",".join([event] * 1000) + "]").encode()


def _response_status(sock: socket.socket) -> str:
    """Read an answer until the server closes the connection; return its status code."""
    data = b""
    while chunk := sock.recv(65_536):
        data += chunk
    return data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "no answer"


def post_batch(port: int, body: bytes) -> str:
    """POST one batch, stopping the upload when the server answers early; return the status or the error."""
    head = (
        f"POST /api/events HTTP/1.1\r\nHost: bench\r\nContent-Type: text/plain\r\nUser-Agent: {FIREFOX}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
            sock.sendall(head)
            view = memoryview(body)
            for offset in range(0, len(body), SEND_CHUNK):
                if select.select([sock], [], [], 0)[0]:
                    break  # answered before the whole body was sent
                sock.sendall(view[offset : offset + SEND_CHUNK])
            return _response_status(sock)
    except ConnectionResetError:
        # The server answered (413) and closed without reading the rest; the reset discards the answer.
        return "reset unread"
    except OSError as error:
        return type(error).__name__


def batch_sender(port: int, kind: str, connections: int, seconds: float, cpus: set[int] | None, out: Any) -> None:
    """Send batches of one kind from several connections for seconds; put (status counts, durations) on out."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    body = flood_batch() if kind == "flood" else max_batch(SITE if kind == "stored" else "nobody.test")
    statuses: Counter[str] = Counter()
    durations: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def run() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            status = post_batch(port, body)
            with lock:
                statuses[status] += 1
                durations.append(time.perf_counter() - started)

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((dict(statuses), durations))


async def _answer(reader: asyncio.StreamReader) -> bytes:
    """Status code of one keep-alive answer, its body read and discarded."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return head.split(b" ", 2)[1]


async def single_events(port: int, rate: float, seconds: float, connections: int) -> tuple[list[float], int]:
    """Latencies (s, from each scheduled send) of single events at rate per second, and the failed ones."""
    latencies: list[float] = []
    errors = 0
    interval = connections / rate
    start = time.perf_counter() + 0.05
    end = start + seconds

    async def connection(offset: float) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        number = 0
        while (scheduled := start + offset + number * interval) < end:
            number += 1
            if (delay := scheduled - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            body = json.dumps({"n": "pageview", "u": f"https://{SITE}/s{number}", "d": SITE}).encode()
            try:
                writer.write(
                    b"POST /api/event HTTP/1.1\r\nHost: bench\r\nContent-Type: text/plain\r\nUser-Agent: "
                    + FIREFOX.encode()
                    + b"\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                await writer.drain()
                if await _answer(reader) != b"202":
                    errors += 1
            except (OSError, asyncio.IncompleteReadError):
                # A lost connection is an error of this event, not of the run: count it and reconnect.
                errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            latencies.append(time.perf_counter() - scheduled)
        writer.close()

    await asyncio.gather(*(connection(index * interval / connections) for index in range(connections)))
    return latencies, errors


class RssSampler:
    """Peak resident memory of a process, sampled every 20 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_kb = max(self.peak_kb, rss_kb(self.pid))

    def __enter__(self) -> "RssSampler":
        self.peak_kb = rss_kb(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def loop_stalls(path: Path, since: float, until: float) -> tuple[float, float]:
    """p99 and longest stall (CPU ms) of the server's loop between two times, from the ticker's lines."""
    ticks, stalls = 0, []
    for line in path.read_text().splitlines() if path.exists() else []:
        window = json.loads(line)
        if since <= window["t"] <= until + 1.0:
            ticks += window["ticks"]
            stalls.extend(window["stalls"])
    stalls.sort(reverse=True)
    # Stalls under 0.5 ms are not written: when fewer than 1 % of the ticks were longer, p99 is below that.
    rank = int(ticks * 0.01)
    p99 = stalls[rank] if rank < len(stalls) else 0.0
    return p99 * 1000, (stalls[0] if stalls else 0.0) * 1000


def run_phase(name: str, port: int, pid: int, args: argparse.Namespace, cpus: set[int] | None, stalls: Path) -> Phase:
    """Single events for args.seconds, beside batches of the phase's kind unless idle."""
    phase = Phase(name, rss_start_mb=rss_kb(pid) / 1024)
    sender = None
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    if name != "idle":
        sender = context.Process(
            target=batch_sender, args=(port, name, args.batch_connections, args.seconds, cpus, out), daemon=True
        )
        sender.start()
        time.sleep(1.0 if name == "flood" else 0.3)  # the sender builds its body first
    started = time.time()
    with RssSampler(pid) as rss:
        latencies, errors = asyncio.run(single_events(port, args.rate, args.seconds, args.connections))
        if sender is not None:
            statuses, durations = out.get(timeout=args.seconds + 300)
            sender.join()
            phase.batches = statuses
            phase.batch_median_s = statistics.median(durations) if durations else 0.0
    ordered = sorted(latencies)
    phase.single_sent, phase.single_errors = len(latencies), errors
    phase.p50_ms = _percentile(ordered, 0.5) * 1000
    phase.p99_ms = _percentile(ordered, 0.99) * 1000
    phase.max_ms = (ordered[-1] if ordered else 0.0) * 1000
    phase.rss_peak_mb = rss.peak_kb / 1024
    phase.loop_stall_p99_ms, phase.loop_stall_max_ms = loop_stalls(stalls, started, time.time())
    return phase


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"teller serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if _response_status(sock) == "200":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"teller serve did not start:\n{log.read_text()[-3000:]}")


def render(phases: list[Phase], checkout: Path) -> str:
    """A plain-text table of the phases."""
    lines = [
        f"checkout {checkout}",
        f"{'phase':<7} {'singles':>7} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8} "
        f"{'loop stall p99':>14} {'max':>6} {'RSS MB start':>12} {'peak':>6}  batches (median s)",
    ]
    for p in phases:
        batches = ", ".join(f"{status}: {n}" for status, n in sorted(p.batches.items())) or "-"
        lines.append(
            f"{p.name:<7} {p.single_sent:>7} {p.single_errors:>6} {p.p50_ms:>7.1f} {p.p99_ms:>7.1f} {p.max_ms:>8.1f} "
            f"{p.loop_stall_p99_ms:>14.1f} {p.loop_stall_max_ms:>6.1f} {p.rss_start_mb:>12.0f} {p.rss_peak_mb:>6.0f}"
            f"  {batches} ({p.batch_median_s:.2f})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Start teller serve from the checkout, run the phases, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the Teller checkout to serve")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of single events before the phases")
    parser.add_argument("--rate", type=float, default=200.0, help="single events per second")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections of the single events")
    parser.add_argument("--batch-connections", type=int, default=4, help="batches sent at once")
    parser.add_argument("--phases", default="idle,unknown,flood,stored", help="comma-separated, in order")
    parser.add_argument(
        "--with-jobs", action="store_true", help="keep the background jobs' intervals (off: an hour, see above)"
    )
    parser.add_argument("--set", action="append", default=[], metavar="TELLER_X=V", help="another server setting")
    parser.add_argument("--json", type=Path, help="also write the phases as JSON here")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the server and the clients to cores")
    args = parser.parse_args(argv)
    # SIGTERM (timeout, a CI runner) unwinds like Ctrl-C, so the server is stopped and the work dir removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    checkout = args.checkout.resolve()
    pin = (os.cpu_count() or 1) >= 2 and not args.no_pin and shutil.which("taskset") is not None
    client_cpus = {1} if pin else None
    if client_cpus:
        os.sched_setaffinity(0, client_cpus)
    workdir = Path(tempfile.mkdtemp(prefix="teller-pressure-"))
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TELLER_")}
    env.update(
        PYTHONPATH=str(checkout),
        TELLER_DATA_DIR=str(workdir / "data"),
        TELLER_SITES=SITE,
        TELLER_RATE_LIMIT="0",
        TELLER_LOG_LEVEL="warning",
    )
    if not args.with_jobs:
        env.update(TELLER_SITE_REFRESH_INTERVAL="3600", TELLER_VISIT_INTERVAL="3600", TELLER_RETENTION_INTERVAL="3600")
    env.update(item.split("=", 1) for item in args.set)
    stalls = workdir / "stalls.jsonl"
    env["PRESSURE_STALLS"] = str(stalls)
    command = [sys.executable, "-c", _SERVE_WITH_TICKER, "--port", str(port)]
    if pin:
        command = ["taskset", "-c", "0", *command]
    log = workdir / "teller.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=checkout, env=env, stdout=out, stderr=subprocess.STDOUT)
    phases = []
    try:
        _wait_ready(port, process, log)
        # The first requests pay for imports, parser tables and the first flush: not part of any phase.
        asyncio.run(single_events(port, args.rate, args.warmup, args.connections))
        for name in args.phases.split(","):
            phases.append(run_phase(name.strip(), port, process.pid, args, client_cpus, stalls))
            print(render(phases[-1:], checkout).splitlines()[-1], flush=True)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    print(render(phases, checkout))
    if args.json:
        args.json.write_text(json.dumps([asdict(phase) for phase in phases], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
