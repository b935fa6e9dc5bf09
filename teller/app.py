"""The Teller ASGI application: ingest endpoints, the stats API, health, wired to one store."""

import gc
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from collector.compat.routes import build_compat_router
from collector.ingest import geo
from collector.ingest.batcher import Batcher
from collector.ingest.client_ip import TrustedProxies
from collector.ingest.client_prefix_middleware import ClientPrefixMiddleware
from collector.ingest.event import EVENT_COLUMNS
from collector.ingest.fast_path import IngestFastPath
from collector.ingest.openapi import ingest_paths
from collector.ingest.rate_limit import PrefixRateLimiter
from collector.ingest.search_sink import SearchSumSink
from collector.ingest.service import IngestService
from collector.ingest.spool import Spool, claim_spool_dir
from collector.ingest.spooled_sink import SpooledSink
from collector.ingest.state import SharedState
from collector.snippet import build_snippet_router
from dashboard.auth import ApiKeyAuth
from dashboard.goals_api import build_goals_router
from dashboard.stats_api import build_stats_router
from dashboard.web.install import install_dashboard
from storage.derived_rollups import run as derive_rollups
from storage.ingest_drops import DropLog
from storage.migrations import migrate
from storage.opening import open_store
from storage.retention import Policy, apply_retention, policy_from
from storage.setup_tokens import issue_setup_token, setup_open
from storage.store import Store
from storage.visits import close_visits
from teller.control_socket import ControlSocket
from teller.jobs import Job, Jobs
from teller.mailer import Mail
from teller.metrics import PUBLISH_INTERVAL, Metrics
from teller.ops_routes import build_ops_router
from teller.report_job import ReportSender, mailer_from
from teller.settings import Settings

log = logging.getLogger("teller")
# (store, argv, standard input) -> (exit status, standard output, standard error) of a CLI command
CommandRunner = Callable[[Store, list[str], str], tuple[int, str, str]]
# The installation check shows a drop this many seconds after it happened, at most. Each insert costs
# chdb some 20-50 ms of CPU whatever its size, so a write every second under a steady trickle of bots took
# ~4 % of the core (`loadtests.bench`: ingest_drops 0.3 inserts/s at 125 ms each on a loaded machine).
DROP_FLUSH_SECONDS = 5.0
# The rollups job only looks for finished UTC days that are out of step: cheap, and a minute is soon enough.
ROLLUP_SECONDS = 60.0


def _retention_run(store: Store, policy: Policy, now: float) -> dict[str, int]:
    """Apply the retention policy once at now and log what it removed."""
    removed = apply_retention(store, policy, now)
    if removed:
        log.info("retention removed %s", ", ".join(f"{n} rows from {t}" for t, n in removed.items()))
    return removed


class Teller:
    """Everything one serving process owns: the store, shared state, batchers, ingest service and job table."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        clock: Callable[[], float] = time.time,
        commands: CommandRunner | None = None,
        on_setup_token: Callable[[str], None] | None = None,
    ):
        self.settings = settings
        self.on_setup_token = on_setup_token
        if store is None:
            store = open_store(settings.clickhouse_url, settings.clickhouse_cluster, settings.data_dir)
        self.store = store
        self.state = SharedState(self.store, clock, settings.referrer_spam)
        spool_dir, self._spool_lock = claim_spool_dir(settings.spool_dir or settings.data_dir / "spool")
        spool = Spool(spool_dir, settings.spool_max_bytes, settings.spool_fsync)
        self.buffer = Batcher(
            SpooledSink(self.store, "events", EVENT_COLUMNS, spool), settings.flush_rows, settings.flush_interval
        )
        self.searches = Batcher(SearchSumSink(self.store), settings.flush_rows, settings.search_flush_interval)
        limiter = PrefixRateLimiter(settings.rate_limit, settings.rate_limit_burst)
        self.drop_log = DropLog(self.store)
        self.ingest = IngestService(self.state, self.buffer, clock, self.searches, limiter, self.drop_log)
        # With several workers each publishes its counters so that /metrics can sum them.
        self.metrics = Metrics(self, settings.data_dir / "metrics" if settings.workers > 1 else None)
        policy = policy_from(settings)
        jobs = [
            Job("state", settings.site_refresh_interval, self.state.refresh),
            Job("visits", settings.visit_interval, lambda: close_visits(self.store, clock(), settings.visit_settle)),
            Job(
                "retention",
                settings.retention_interval,
                lambda: _retention_run(self.store, policy, clock()),
                run_first=True,
            ),
            Job("drops", DROP_FLUSH_SECONDS, self.drop_log.flush),
            Job("rollups", ROLLUP_SECONDS, lambda: derive_rollups(self.store, clock())),
        ]
        self.reports = ReportSender(self.store, settings, lambda: self.state.sites, clock)
        jobs.append(Job("reports", settings.report_interval, self.reports.run))
        if self.metrics.directory is not None:
            jobs.append(Job("metrics", PUBLISH_INTERVAL, self.metrics.publish))
        self.jobs = Jobs(jobs)
        # The CLI's way in while this process holds the embedded data dir (a server has no lock to share).
        self.control: ControlSocket | None = None
        if commands is not None and settings.embedded and settings.workers <= 1:
            runner = commands
            self.control = ControlSocket(settings.data_dir, lambda argv, stdin: self._run_command(runner, argv, stdin))

    def _run_command(self, commands: CommandRunner, argv: list[str], stdin: str) -> tuple[int, str, str]:
        """Run a forwarded CLI command on this process's store, then reload the sites it may have changed."""
        answer = commands(self.store, argv, stdin)
        self.state.refresh()
        return answer

    def start(self) -> None:
        """Migrate, register configured sites, load shared state and start the batchers and the job table."""
        if self.settings.workers <= 1:
            # With several workers `teller serve` migrates once before starting them.
            migrate(self.store)
        if self.settings.sites:
            self.state.ensure_sites(self.settings.sites, self.settings.timezone)
        self.state.refresh()
        if self.on_setup_token is not None and setup_open(self.store):
            self.on_setup_token(issue_setup_token(self.store))
        self.buffer.start()
        self.searches.start()
        self.jobs.start()
        geo.load()
        if self.control is not None:
            self.control.start()
        # Parser tables, the geo database and the engine's objects live as long as the process; frozen,
        # the collector skips them: a full collection took ~145 ms before and ~20 ms after, and the
        # ingest pipeline went from ~14-27 to ~7 us per event.
        gc.freeze()

    def stop(self) -> None:
        """Stop the job table, then flush buffered rows."""
        if self.control is not None:
            self.control.stop()
        self.jobs.stop()
        self.metrics.withdraw()
        self.buffer.stop()
        self.searches.stop()
        os.close(self._spool_lock)


def _with_ingest_paths(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """app.openapi with the ingest POSTs added: the fast path answers them, so no route describes them."""
    framework_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = framework_schema()
            app.openapi_schema = {**schema, "paths": {**ingest_paths(), **schema.get("paths", {})}}
        return app.openapi_schema

    return openapi


def create_app(
    settings: Settings,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
    commands: CommandRunner | None = None,
    on_setup_token: Callable[[str], None] | None = None,
) -> FastAPI:
    """Build the application; the store is opened from settings unless one is given.

    commands runs CLI commands sent to the control socket; on_setup_token shows the first run's token.
    """
    teller = Teller(settings, store, clock, commands, on_setup_token)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        teller.start()
        try:
            yield
        finally:
            teller.stop()

    app = FastAPI(title="Teller", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.teller = teller
    app.openapi = _with_ingest_paths(app)  # type: ignore[method-assign]
    app.include_router(build_snippet_router())
    app.state.api_key_auth = ApiKeyAuth(teller.store)
    app.include_router(
        build_stats_router(teller.store, lambda: teller.state.sites, app.state.api_key_auth, settings.search_min_count)
    )

    app.include_router(build_goals_router(teller.store, lambda: teller.state.sites, app.state.api_key_auth))

    # Before the fast path is added, so the dashboard's security headers never touch the ingest POSTs.
    mailer = mailer_from(settings)
    send_mail = None if mailer is None else lambda *parts: mailer.send(Mail(*parts))
    install_dashboard(app, teller.store, settings, lambda: teller.state.sites, teller.state.refresh, clock, send_mail)

    app.include_router(build_ops_router(teller.store, lambda: teller.metrics, app.state.api_key_auth))
    app.include_router(
        build_compat_router(
            teller.ingest, teller.store, settings.max_body_bytes, settings.max_batch_bytes, settings.max_batch_events
        )
    )

    # Added first, so it runs inside ClientPrefixMiddleware and sees only the truncated address.
    app.add_middleware(
        IngestFastPath,
        service=teller.ingest,
        max_body_bytes=settings.max_body_bytes,
        max_batch_events=settings.max_batch_events,
        max_batch_bytes=settings.max_batch_bytes,
    )
    app.add_middleware(ClientPrefixMiddleware, trusted_proxies=TrustedProxies(settings.trusted_proxies))
    return app


def app_from_environment() -> FastAPI:
    """The application built from TELLER_* variables (the factory each uvicorn worker calls)."""
    return create_app(Settings())
