"""Side-by-side benchmark: a raw ASGI app, a bare FastAPI endpoint, then Teller on each engine, loaded by the same
wrk scripts."""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

from loadtests import wrk
from loadtests.probe import OUTPUT_ENV, rss_kb
from loadtests.traffic import REGISTERED, Traffic

ROOT = Path(__file__).resolve().parents[1]
SERVER_CPU, LOAD_CPU = "0", "1"
CORPUS = 20_000
BATCH_SIZE = 100

# Targets per uvicorn worker, every thread of the process (and the server engine's ClickHouse) on one core.
TARGET_RATIO = 0.80
TARGET_P99_MS = 50.0
TARGET_STALL_MS = 100.0
TARGET_BATCH_EVENTS = 100_000
TARGET_RSS_MB = {"embedded": 350, "server": 150}


@dataclass
class Report:
    """Everything measured for one target (the bare endpoint or Teller on one engine)."""

    name: str
    max: wrk.WrkResult | None = None
    paced: wrk.WrkResult | None = None
    paced_target_rps: float = 0.0
    batch: wrk.WrkResult | None = None
    accepted: int = 0
    incomplete_runs: int = 0
    stored: int | None = None
    peak_rss_mb: float = 0.0
    backlog_max: int = 0
    backlog_end: int = 0
    backlog_trend_rows_per_s: float = 0.0
    inserts_per_s: dict[str, float] = field(default_factory=dict)
    insert_ms: dict[str, float] = field(default_factory=dict)
    cpu_us_per_request: float = 0.0
    clickhouse_cpu_us_per_request: float = 0.0  # the server engine's ClickHouse, when it shares the core
    other_cpu_share: float = 0.0
    max_lag_ms: float = 0.0  # the event loop's longest delay during the full-rate run
    stalls: int = 0  # probe samples (every 0.25 s) with a delay over TARGET_STALL_MS
    profile: str = ""


def _pinned(command: list[str], cpus: str | None) -> list[str]:
    """command under taskset when pinning is possible."""
    return ["taskset", "-c", cpus, *command] if cpus is not None else command


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> None:
    """Wait until GET url answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _free_port() -> int:
    """A free loopback port."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process, wait for it, and stop it with SIGTERM (Teller drains its buffer then)."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/healthz", process, log)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Bench:
    """One benchmark run: the request corpus, the wrk scripts and the settings shared by every target."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        pin = (os.cpu_count() or 1) >= 2 and not args.no_pin
        self.server_cpu = SERVER_CPU if pin else None
        self.load_cpu = LOAD_CPU if pin else None
        hits = Traffic(seed=args.seed).sample(CORPUS)
        single = [wrk.Request(hit.encoded(), hit.user_agent, hit.forwarded_for) for hit in hits]
        batches = []
        for start in range(0, len(hits) - BATCH_SIZE + 1, BATCH_SIZE):
            group = hits[start : start + BATCH_SIZE]
            body = b"[" + b",".join(hit.encoded() for hit in group) + b"]"
            batches.append(wrk.Request(body, group[0].user_agent, group[0].forwarded_for))
        self.single = single
        self.batches = batches
        self.accepted, self.incomplete = 0, 0
        self.rate, self.batch_rate = 3000.0, 200.0
        self.body_bytes = sum(len(r.body) for r in single) / len(single)

    def load(self, port: int, batch: bool, seconds: float, connections: int, interval_ms: float = 0.0) -> wrk.WrkResult:
        """Send about seconds' worth of requests at the last measured rate, wait for every answer, count them."""
        rate = self.batch_rate if batch else self.rate
        count = max(connections, int(rate * seconds))
        corpus, path = (self.batches, "/api/events") if batch else (self.single, "/api/event")
        script = wrk.write_script(self.workdir / "run.lua", corpus, path, count, batch=batch, interval_ms=interval_ms)
        result = wrk.run(f"http://127.0.0.1:{port}", script, 3 * seconds + 30, connections, cpus=self.load_cpu)
        self.accepted += result.accepted
        self.incomplete += not result.complete
        if not interval_ms:
            if batch:
                self.batch_rate = result.rps
            else:
                self.rate = result.rps
        return result

    def paced(self, port: int, rate: float, seconds: float) -> wrk.WrkResult:
        """A run near rate requests/s: connections pause between requests; the pause is calibrated twice."""
        connections = 64
        interval = connections / rate * 1000
        saved, self.rate = self.rate, rate
        for _ in range(2):
            trial = self.load(port, False, 2, connections, interval)
            # Each connection waits pause + response time, so the response time is what the trial lost.
            lost = connections * 1000 / trial.rps - interval
            interval = max(0.001, connections * 1000 / rate - lost)
        result = self.load(port, False, seconds, connections, interval)
        self.rate = saved
        return result

    def run_target(
        self,
        report: Report,
        command: list[str],
        env: dict[str, str],
        port: int,
        probe: Path | None = None,
        clickhouse_pid: int | None = None,
    ) -> Report:
        """Warm up, measure the maximum rate, latency at 80 % of it, and batches; then drain."""
        args = self.args
        self.accepted, self.incomplete = 0, 0
        self.rate, self.batch_rate = 3000.0, 200.0
        log = self.workdir / f"{report.name}.log"
        with _server(_pinned(command, self.server_cpu), env, port, log) as process:
            peak = rss_kb(process.pid)
            self.load(port, False, args.warmup, args.connections)
            started, cpu_before, busy_before = time.time(), cpu_seconds(process.pid), busy_seconds(self.server_cpu)
            clickhouse_before = cpu_seconds(clickhouse_pid) if clickhouse_pid else 0.0
            report.max = self.load(port, False, args.seconds, args.connections)
            window = (started, time.time())
            requests = max(1, report.max.answers + report.max.rejected)
            clickhouse = cpu_seconds(clickhouse_pid) - clickhouse_before if clickhouse_pid else 0.0
            report.clickhouse_cpu_us_per_request = 1e6 * clickhouse / requests
            spent = cpu_seconds(process.pid) - cpu_before + clickhouse
            report.cpu_us_per_request = 1e6 * spent / requests
            # Whatever else ran on the server's core during the run (other processes on a shared machine).
            others = busy_seconds(self.server_cpu) - busy_before - spent
            report.other_cpu_share = max(0.0, others / (window[1] - window[0]))
            peak = max(peak, rss_kb(process.pid))
            report.paced_target_rps = TARGET_RATIO * report.max.rps
            report.paced = self.paced(port, report.paced_target_rps, args.latency_seconds)
            self.load(port, True, 1, 8)
            report.batch = self.load(port, True, args.batch_seconds, 8)
            peak = max(peak, rss_kb(process.pid))
            if args.profile and probe is not None:
                report.profile = self.profile(port, process.pid, report.name)
        report.accepted = self.accepted
        report.incomplete_runs = self.incomplete
        report.peak_rss_mb = peak / 1024
        if probe is not None:
            self.read_probe(report, probe, window)
        return report

    def profile(self, port: int, pid: int, name: str) -> str:
        """Sample the server with py-spy during an extra full-rate run; return the top functions."""
        from loadtests.profile_summary import summarise

        raw = self.workdir / f"{name}.pyspy.txt"
        seconds = max(5, int(self.args.seconds // 2))
        py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
        if py_spy is None:
            return "(py-spy is not installed: pip install -e '.[loadtest]')"
        # Blocking mode: the sampled stacks are whole (non-blocking sampling lost ~40 % of them here).
        spy = subprocess.Popen(
            _pinned(
                [py_spy, "record", "-p", str(pid), "-d", str(seconds), "-r", "100", "-f", "raw", "-o", str(raw)],
                self.load_cpu,
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.load(port, False, seconds + 2, self.args.connections)
        _, errors = spy.communicate()
        return summarise(raw.read_text()) if raw.exists() else f"(py-spy failed: {errors.decode()[-500:]})"

    def read_probe(self, report: Report, probe: Path, window: tuple[float, float]) -> None:
        """Backlog, RSS and insert counts from the probe's samples during the full-rate run."""
        samples = [json.loads(line) for line in probe.read_text().splitlines() if line.strip()]
        if not samples:
            return
        report.peak_rss_mb = max(report.peak_rss_mb, max(s["rss_kb"] for s in samples) / 1024)
        inside = [s for s in samples if window[0] <= s["t"] <= window[1]]
        report.backlog_end = samples[-1]["backlog"]
        if len(inside) >= 2:
            first, last = inside[0], inside[-1]
            span = last["t"] - first["t"]
            report.backlog_max = max(s["backlog"] for s in inside)
            lags = [s.get("max_lag_ms", 0.0) for s in inside]
            report.max_lag_ms = max(lags)
            report.stalls = sum(lag > TARGET_STALL_MS for lag in lags)
            report.backlog_trend_rows_per_s = _slope([s["t"] for s in inside], [s["backlog"] for s in inside])
            for table, count in last["inserts"].items():
                done = count - first["inserts"].get(table, 0)
                report.inserts_per_s[table] = done / span
                spent = last["insert_seconds"][table] - first["insert_seconds"].get(table, 0)
                report.insert_ms[table] = 1000 * spent / done if done else 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used, all its threads included."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_seconds(cpu: str | None) -> float:
    """Non-idle time of one core (or of all cores when cpu is None) since boot."""
    name = "cpu" if cpu is None else f"cpu{cpu}"
    with open("/proc/stat", encoding="ascii") as stat:
        for line in stat:
            parts = line.split()
            if parts[0] == name:
                ticks = [int(value) for value in parts[1:]]
                idle = ticks[3] + ticks[4]
                return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs."""
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def _base_env() -> dict[str, str]:
    """The environment of every server: this checkout importable, no TELLER_* leaking in from the shell."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TELLER_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _teller_env(extra: dict[str, str], probe: Path, overrides: list[str]) -> dict[str, str]:
    """Settings for the Teller under test: the load's sites registered, the generator trusted as a proxy."""
    env = _base_env()
    env.update(
        TELLER_SITES=",".join(REGISTERED),
        TELLER_TRUSTED_PROXIES="127.0.0.1",
        **{OUTPUT_ENV: str(probe)},
        **extra,
    )
    env.update(item.split("=", 1) for item in overrides)
    return env


def count_embedded(data_dir: Path) -> int:
    """Rows in the events table of an embedded data dir (in a child process: chdb holds one dir per process)."""
    code = (
        "import sys; from storage.embedded import EmbeddedStore as S; "
        "s = S(sys.argv[1]); print(s.query('SELECT count() FROM events')[0][0]); s.close()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(data_dir)],
        cwd=ROOT,
        env=_base_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


def count_server(url: str) -> int:
    """Rows in the events table of a ClickHouse server database."""
    from clickhouse_driver import Client

    client = Client.from_url(url)
    try:
        return int(client.execute("SELECT count() FROM events")[0][0])
    finally:
        client.disconnect()


@contextmanager
def throwaway_server(cpus: str | None) -> Iterator[tuple[str, int | None]]:
    """A throwaway ClickHouse 18.16 server (tests/clickhouse_server.py) pinned to cpus: its URL and process id."""
    sys.path.insert(0, str(ROOT / "tests"))
    from clickhouse_server import ThrowawayClickHouse

    with ThrowawayClickHouse() as server:
        if cpus is not None and server.process is not None:
            for task in os.listdir(f"/proc/{server.process.pid}/task"):
                with suppress(OSError):
                    os.sched_setaffinity(int(task), {int(cpus)})
        from clickhouse_driver import Client

        client = Client(host="127.0.0.1", port=server.tcp_port)
        client.execute("CREATE DATABASE IF NOT EXISTS bench")
        client.disconnect()
        yield server.database_url("bench"), server.process.pid if server.process is not None else None


@contextmanager
def given_server(url: str) -> Iterator[tuple[str, int | None]]:
    """A server database given on the command line, used as it is (its CPU is not counted)."""
    yield url, None


def _ms(us: float) -> str:
    """Microseconds as milliseconds text."""
    return f"{us / 1000:.1f}"


def render(reports: list[Report], bench: Bench) -> str:
    """The result table, the checks and the targets."""
    bare = next((r for r in reports if r.name == "bare"), None)
    raw = next((r for r in reports if r.name == "raw-asgi"), None)
    lines = [
        f"body mix: {len(bench.single)} recorded requests, {bench.body_bytes:.0f} bytes on average, "
        f"batches of {BATCH_SIZE}; server on cpu {bench.server_cpu}, wrk on cpu {bench.load_cpu}",
        "",
        f"{'target':<16}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'vs bare':>9}{'vs raw':>8}{'CPU us/req':>11}"
        f"{'@80% req/s':>12}{'p99 ms':>8}{'batch ev/s':>12}{'RSS MB':>8}{'max lag ms':>11}{'other load':>11}",
    ]
    for r in reports:
        assert r.max is not None and r.paced is not None and r.batch is not None

        def versus(base: Report | None, r: Report = r) -> str:
            return f"{r.max.rps / base.max.rps:.0%}" if base and base.max and r.max and r is not base else "-"

        lag = f"{r.max_lag_ms:.0f}" if r.stored is not None else "-"
        lines.append(
            f"{r.name:<16}{r.max.rps:>9,.0f}{_ms(r.max.p50_us):>8}{_ms(r.max.p99_us):>8}{versus(bare):>9}"
            f"{versus(raw):>8}{r.cpu_us_per_request:>11.0f}{r.paced.rps:>12,.0f}{_ms(r.paced.p99_us):>8}"
            f"{r.batch.events_per_second:>12,.0f}{r.peak_rss_mb:>8.0f}{lag:>11}{r.other_cpu_share:>11.0%}"
        )
    lines.append("(CPU us/req: the server process's CPU time per request at full rate, all threads, plus the server")
    lines.append(" engine's ClickHouse on the same core; max lag: the event loop's longest delay at full rate; other")
    lines.append(" load: CPU used on the server's core by other processes during that run; above ~5 % the req/s are")
    lines.append(" skewed)")
    for r in reports:
        if r.clickhouse_cpu_us_per_request:
            share = r.clickhouse_cpu_us_per_request
            lines.append(f"{r.name}: {share:.0f} us/req of that CPU is the ClickHouse server's")
    lines.append("")
    for r in reports:
        if r.stored is None:
            continue
        inserts = ", ".join(f"{t} {n:.2f}/s ({r.insert_ms[t]:.0f} ms each)" for t, n in sorted(r.inserts_per_s.items()))
        lines.append(
            f"{r.name}: accepted {r.accepted:,}, stored {r.stored:,} -> "
            f"{'OK' if r.stored == r.accepted else 'MISMATCH'}"
            f"{f' ({r.incomplete_runs} runs lost requests)' if r.incomplete_runs else ''}; "
            f"backlog max {r.backlog_max:,} rows, trend {r.backlog_trend_rows_per_s:+.0f} rows/s, "
            f"{r.backlog_end} left after drain; inserts: {inserts or 'none'}"
        )
    lines.append("")
    for r in reports:
        if r.stored is None or bare is None or r.max is None or r.paced is None or r.batch is None:
            continue
        engine = r.name.removeprefix("teller-")
        checks = [
            (f"req/s >= {TARGET_RATIO:.0%} of bare", r.max.rps >= TARGET_RATIO * bare.max.rps),  # type: ignore[union-attr]
            (f"p99 < {TARGET_P99_MS:.0f} ms at 80 %", r.paced.p99_us / 1000 < TARGET_P99_MS),
            (f"no stall > {TARGET_STALL_MS:.0f} ms at full rate", r.stalls == 0),
            (f"batch >= {TARGET_BATCH_EVENTS:,} events/s", r.batch.events_per_second >= TARGET_BATCH_EVENTS),
            (f"RSS <= {TARGET_RSS_MB.get(engine, 0)} MB", r.peak_rss_mb <= TARGET_RSS_MB.get(engine, 0)),
            ("inserts <= ~1/s per table", all(n <= 1.2 for n in r.inserts_per_s.values())),
            ("no growing backlog", r.backlog_trend_rows_per_s < 0.02 * r.max.rps and r.backlog_end == 0),
        ]
        lines.append(f"{r.name}: " + "; ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks))
    for r in reports:
        if r.profile:
            lines += ["", f"py-spy profile of {r.name} at full rate (share of samples):", r.profile]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when stored events differ from accepted ones."""
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of each full-rate run [60]")
    parser.add_argument("--latency-seconds", type=float, default=20, help="length of each run at 80 %% [20]")
    parser.add_argument("--batch-seconds", type=float, default=20, help="length of each batch run [20]")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds before measuring [3]")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections for full-rate runs [32]")
    parser.add_argument("--engines", default="embedded,server", help="Teller engines to run [embedded,server]")
    parser.add_argument("--clickhouse-url", default="", help="use this server database instead of a throwaway")
    parser.add_argument("--no-bare", action="store_true", help="skip the raw ASGI and bare FastAPI endpoints")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and wrk to different cores")
    parser.add_argument("--profile", action="store_true", help="also sample Teller with py-spy (extra run)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the request corpus [1]")
    parser.add_argument(
        "--teller-env", action="append", default=[], metavar="NAME=VALUE", help="extra setting for Teller (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="write every number to this file")
    parser.add_argument("--keep", type=Path, help="keep scripts, logs and data in this directory")
    args = parser.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="teller-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, workdir)
    reports: list[Report] = []
    floors = [] if args.no_bare else [("raw-asgi", "loadtests.raw_asgi_app:app"), ("bare", "loadtests.bare_app:app")]
    for name, target in floors:
        port = _free_port()
        command = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--no-access-log"]
        command += ["--log-level", "warning"]
        reports.append(bench.run_target(Report(name), command, _base_env(), port))
        print(f"{name}: {reports[-1].max.rps:,.0f} req/s", file=sys.stderr)  # type: ignore[union-attr]
    for engine in engines:
        port = _free_port()
        probe = workdir / f"teller-{engine}.probe.jsonl"
        probe.unlink(missing_ok=True)
        command = [sys.executable, "-m", "loadtests.probe", "--host", "127.0.0.1", "--port", str(port)]
        report = Report(f"teller-{engine}")
        if engine == "embedded":
            data_dir = workdir / "data"
            shutil.rmtree(data_dir, ignore_errors=True)
            bench.run_target(
                report, command, _teller_env({"TELLER_DATA_DIR": str(data_dir)}, probe, args.teller_env), port, probe
            )
            report.stored = count_embedded(data_dir)
        elif engine == "server":
            # The server shares Teller's core and its CPU is counted: what a one-box user pays.
            server = given_server(args.clickhouse_url) if args.clickhouse_url else throwaway_server(bench.server_cpu)
            with server as (url, clickhouse_pid):
                env = _teller_env({"TELLER_CLICKHOUSE_URL": url}, probe, args.teller_env)
                bench.run_target(report, command, env, port, probe, clickhouse_pid)
                report.stored = count_server(url)
        else:
            parser.error(f"unknown engine {engine!r}")
        reports.append(report)
        print(f"{report.name}: {report.max.rps:,.0f} req/s", file=sys.stderr)  # type: ignore[union-attr]
    print(render(reports, bench))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in reports], indent=2))
    return 0 if all(r.stored is None or r.stored == r.accepted for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
