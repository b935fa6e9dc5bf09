"""The `teller` command: serve, migrate, and manage sites, API keys, dashboard users, e-mail reports, goals
and funnels."""

import io
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated

import typer

from storage.store import DataDirInUse, Store, StoreError
from teller.settings import Settings

app = typer.Typer(
    help="Teller: self-hosted, cookieless, privacy-first web analytics.\n\n"
    "Settings come from TELLER_* environment variables (see docs/settings.md).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sites_app = typer.Typer(help="Register and list the websites Teller accepts events for.", no_args_is_help=True)
SEARCH_PARAMS_HELP = (
    "Comma-separated query parameters that carry site-search terms, e.g. q,query; "
    "'' for the defaults, '-' to capture none."
)
keys_app = typer.Typer(help="Create, list and revoke API keys for the stats API.", no_args_is_help=True)
app.add_typer(sites_app, name="sites")
app.add_typer(keys_app, name="api-keys")
users_app = typer.Typer(help="Create, list and remove dashboard users.", no_args_is_help=True)
app.add_typer(users_app, name="users")
reports_app = typer.Typer(help="Subscribe addresses to a site's e-mail reports and alerts.", no_args_is_help=True)
app.add_typer(reports_app, name="reports")
retention_app = typer.Typer(help="Remove data older than the retention settings.", no_args_is_help=True)
app.add_typer(retention_app, name="retention")
import_app = typer.Typer(help="Import statistics kept by another analytics tool.", no_args_is_help=True)
app.add_typer(import_app, name="import")
imports_app = typer.Typer(help="List and delete a site's imported statistics.", no_args_is_help=True)
app.add_typer(imports_app, name="imports")
goals_app = typer.Typer(help="Add, list and remove a site's goals (they count past events too).", no_args_is_help=True)
app.add_typer(goals_app, name="goals")
funnels_app = typer.Typer(help="Add, list and remove a site's funnels (2 to 8 goals in order).", no_args_is_help=True)
app.add_typer(funnels_app, name="funnels")


# The serving process's store, while it runs a command sent over its control socket.
_serving_store: ContextVar[Store | None] = ContextVar("serving_store", default=None)
# Commands that never run inside a serving process.
NOT_FORWARDED = frozenset({"serve"})
PASSWORD_COMMANDS = (["users", "add"], ["users", "password"])


def fail(message: str) -> None:
    """Print a one-line error and exit with status 1."""
    typer.echo(f"teller: error: {message}", err=True)
    raise typer.Exit(1)


@contextmanager
def opened_store(migrated: bool = True, cluster: str | None = None) -> Iterator[Store]:
    """Open the configured store (migrated), turning engine errors into one-line messages."""
    from storage.opening import open_store

    serving = _serving_store.get()
    if serving is not None:
        yield serving  # migrated at start, and closed by the process that owns it
        return
    settings = Settings()
    if cluster:
        settings = settings.model_copy(update={"clickhouse_cluster": cluster})
    store = None
    try:
        store = open_store(settings.clickhouse_url, settings.clickhouse_cluster, settings.data_dir)
        if migrated:
            from storage.migrations import migrate

            migrate(store)
        yield store
    except DataDirInUse as error:
        fail(str(error))
    except StoreError as error:
        fail(f"ClickHouse: {error}")
    finally:
        if store is not None:
            store.close()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [default: TELLER_HOST or 127.0.0.1].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [default: TELLER_PORT or 8000].")] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes [default: TELLER_WORKERS or 1]; more than one needs the server engine."),
    ] = None,
) -> None:
    """Run the collector, stats API and dashboard (migrates the schema first)."""
    import uvicorn

    from teller.logging_config import log_config

    if workers is not None and workers < 1:
        fail("--workers must be at least 1")
    # The options become settings: the workers read theirs from the environment, and links in e-mails are
    # built from the bound host and port when TELLER_PUBLIC_URL is not set.
    for name, value in (("TELLER_HOST", host), ("TELLER_PORT", port), ("TELLER_WORKERS", workers)):
        if value is not None:
            os.environ[name] = str(value)
    settings = Settings()
    if settings.workers > 1 and settings.embedded:
        fail(
            f"the embedded engine runs one worker (its data dir {settings.data_dir.resolve()} belongs to one "
            "process); set TELLER_CLICKHOUSE_URL to a ClickHouse server to run several"
        )
    bind_host, bind_port = settings.host, settings.port
    common = {
        "host": bind_host,
        "port": bind_port,
        "log_level": settings.log_level,
        "log_config": log_config(settings.log_format, settings.log_level),
        # The access log prints scope["client"], which ClientPrefixMiddleware has already truncated.
        "access_log": settings.access_log,
        "proxy_headers": False,
        "server_header": False,
    }
    if settings.workers > 1:
        from storage.migrations import migrate
        from storage.setup_tokens import issue_setup_token, setup_open

        with opened_store(migrated=False) as store:
            migrate(store)
            if setup_open(store):
                _announce_setup(settings.public_url or f"http://{bind_host}:{bind_port}", issue_setup_token(store))
        typer.echo(f"teller: serving on http://{bind_host}:{bind_port} ({settings.workers} workers)", err=True)
        uvicorn.run("teller.app:app_from_environment", factory=True, workers=settings.workers, **common)
        return

    from teller.app import create_app

    url = settings.public_url or f"http://{bind_host}:{bind_port}"
    try:
        application = create_app(
            settings,
            commands=run_in_serving_process,
            on_setup_token=lambda token: _announce_setup(url, token),
        )
    except DataDirInUse as error:
        fail(str(error))
    except StoreError as error:
        fail(f"ClickHouse: {error}")
    engine = "embedded chdb in " + str(settings.data_dir.resolve()) if settings.embedded else "ClickHouse server"
    typer.echo(f"teller: serving on http://{bind_host}:{bind_port} ({engine})", err=True)
    uvicorn.run(application, **common)


def _announce_setup(url: str, token: str) -> None:
    """Print the setup token on the terminal only (standard error, not through logging, never to a log file)."""
    sys.stderr.write(
        f"teller: no account exists yet: open {url.rstrip('/')}/setup and create the first admin account\n"
        f"teller: setup token (valid until the first account exists): {token}\n"
    )
    sys.stderr.flush()


_forwarded_lock = threading.Lock()


def run_in_serving_process(store: Store, argv: list[str], stdin: str) -> tuple[int, str, str]:
    """Run a CLI command inside the serving process on its store; (exit status, stdout, stderr)."""
    if not argv or argv[0] in NOT_FORWARDED:
        return 2, "", "teller: error: this command does not run inside `teller serve`\n"
    out, err = io.StringIO(), io.StringIO()
    token = _serving_store.set(store)
    saved_stdin = sys.stdin
    # One at a time: the command's output is caught by swapping the process's sys.stdout and sys.stderr.
    with _forwarded_lock, redirect_stdout(out), redirect_stderr(err):
        sys.stdin = io.StringIO(stdin)
        try:
            code = typer.main.get_command(app).main(args=argv, prog_name="teller", standalone_mode=False)
            code = code if isinstance(code, int) else 0
        except typer.Exit as done:
            code = done.exit_code
        except typer.Abort:
            code = 1
        except Exception as error:  # noqa: BLE001 - usage errors (typer's click) carry exit_code and show()
            code = int(getattr(error, "exit_code", 1))
            show = getattr(error, "show", None)
            if callable(show):
                show(err)
            else:
                err.write(f"teller: error: {error}\n")
        finally:
            sys.stdin = saved_stdin
            _serving_store.reset(token)
    return code, out.getvalue(), err.getvalue()


def _forward_to_serving_process(argv: list[str]) -> None:
    """Run the command in `teller serve` when it holds the embedded data dir; return if it does not."""
    from storage.dir_lock import lock_dir
    from teller.control_socket import send_command

    if not argv or argv[0] in NOT_FORWARDED or argv[0].startswith("-") or "--help" in argv:
        return
    try:
        settings = Settings()
    except Exception:  # noqa: BLE001 - the command itself reports bad settings
        return
    if not settings.embedded or not settings.data_dir.exists():
        return
    fd = lock_dir(settings.data_dir, "teller.lock")
    if fd is not None:
        os.close(fd)  # nobody serves this data dir: the command opens it itself
        return
    if sys.stdin.isatty():
        stdin = _read_password() + "\n" if argv[:2] in PASSWORD_COMMANDS else ""
    else:
        stdin = sys.stdin.read(64 << 10)
    answer = send_command(settings.data_dir, argv, stdin)
    if answer is None:
        fail(
            f"the data dir {settings.data_dir.resolve()} is in use by another Teller process that takes no "
            "commands (only `teller serve` does); stop it and try again"
        )
    code, out, err = answer  # type: ignore[misc]
    sys.stdout.write(out)
    sys.stderr.write(err)
    raise SystemExit(code)


@app.command("migrate")
def migrate_command(
    cluster: Annotated[
        str | None,
        typer.Option(
            help="Shard the schema across this cluster of the server's remote_servers: local tables on every host, "
            "Distributed tables over them (docs/cluster.md) [default: TELLER_CLICKHOUSE_CLUSTER]."
        ),
    ] = None,
) -> None:
    """Apply pending schema migrations (running it again does nothing)."""
    from storage.migrations import migrate, migrate_cluster

    with opened_store(migrated=False, cluster=cluster) as store:
        try:
            if store.cluster:
                applied = migrate_cluster(store, every_host=True)
                typer.echo(f"cluster {store.cluster}: {len(store.hosts())} hosts")
            else:
                applied = migrate(store)
        except ValueError as error:
            fail(str(error))
    if applied:
        for migration in applied:
            typer.echo(f"applied {migration.version:04d}_{migration.name}")
    else:
        typer.echo("schema is up to date")


@sites_app.command("add")
def sites_add(
    domain: Annotated[str, typer.Argument(help="The site's domain, e.g. example.com (www. is dropped).")],
    timezone: Annotated[str, typer.Option(help="IANA time zone for the site's days, e.g. Europe/Oslo.")] = "",
    search_params: Annotated[
        str | None,
        typer.Option(help=SEARCH_PARAMS_HELP + " [default: keep the current ones; new sites: the defaults]"),
    ] = None,
) -> None:
    """Register a site so its events are accepted."""
    from storage.sites import add_site

    with opened_store() as store:
        try:
            site = add_site(store, domain, timezone or Settings().timezone, search_params)
        except ValueError as error:
            fail(str(error))
    typer.echo(f"added {site.domain} ({site.timezone})")
    if search_params is not None:
        typer.echo(f"search parameters: {_search_params_text(site.search_params)}")


@sites_app.command("search-params")
def sites_search_params(
    domain: Annotated[str, typer.Argument(help="A registered domain.")],
    names: Annotated[str, typer.Argument(help=SEARCH_PARAMS_HELP)],
) -> None:
    """Set the query parameters that carry a site's search terms (collectors pick it up on their next refresh)."""
    from storage.sites import set_search_params

    with opened_store() as store:
        try:
            site = set_search_params(store, domain, names)
        except ValueError as error:
            fail(str(error))
    typer.echo(f"{site.domain}: search parameters: {_search_params_text(site.search_params)}")


def _search_params_text(stored: str) -> str:
    """A site's search parameters as `sites list` shows them."""
    from storage.search_params import DEFAULT_SEARCH_PARAMS, NO_SEARCH_PARAMS

    if stored == NO_SEARCH_PARAMS:
        return "none"
    return stored or "defaults (" + ",".join(DEFAULT_SEARCH_PARAMS) + ")"


@sites_app.command("dnt")
def sites_dnt(
    domain: Annotated[str, typer.Argument(help="A registered domain.")],
    honour: Annotated[bool, typer.Argument(help="on (the default for new sites) or off.", metavar="on|off")],
) -> None:
    """Honour Do-Not-Track and Global Privacy Control for a site: drop events sent with DNT: 1 or Sec-GPC: 1."""
    from storage.sites import set_respect_dnt

    with opened_store() as store:
        try:
            site = set_respect_dnt(store, domain, honour)
        except ValueError as error:
            fail(str(error))
    typer.echo(f"{site.domain}: Do-Not-Track and Global Privacy Control {'honoured' if honour else 'ignored'}")


@sites_app.command("tracker-id")
def sites_tracker_id(
    domain: Annotated[str, typer.Argument(help="A registered domain.")],
    tracker: Annotated[str, typer.Argument(help="umami or matomo.", metavar="umami|matomo")],
    tracker_id: Annotated[str, typer.Argument(help="Umami's website id (a UUID) or Matomo's idsite.")],
    remove: Annotated[bool, typer.Option(help="Stop mapping this id to the site.")] = False,
) -> None:
    """Accept a site's events from an unchanged Umami (POST /api/send) or Matomo (/matomo.php) tracker by its id."""
    from storage.sites import list_sites, normalise_domain
    from storage.tracker_ids import set_tracker_id

    with opened_store() as store:
        try:
            name = normalise_domain(domain)
            if name not in {site.domain for site in list_sites(store)}:
                raise ValueError(f"{name} is not a registered site")
            set_tracker_id(store, tracker, tracker_id, "" if remove else name)
        except ValueError as error:
            fail(str(error))
    typer.echo(f"{name}: {tracker} id {tracker_id} {'removed' if remove else 'mapped'}")


@sites_app.command("list")
def sites_list() -> None:
    """List registered sites, their time zones and search parameters."""
    from storage.sites import list_sites

    with opened_store() as store:
        sites = list_sites(store)
    for site in sites:
        typer.echo(f"{site.domain}\t{site.timezone}\t{_search_params_text(site.search_params)}")
    if not sites:
        typer.echo("no sites yet: add one with `teller sites add example.com`", err=True)


@sites_app.command("remove")
def sites_remove(domain: Annotated[str, typer.Argument(help="Domain to stop accepting events for.")]) -> None:
    """Stop accepting events for a site (its statistics stay until retention removes them)."""
    from storage.sites import remove_site

    with opened_store() as store:
        try:
            remove_site(store, domain)
        except ValueError as error:
            fail(str(error))
    typer.echo(f"removed {domain}")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "default",
) -> None:
    """Create an API key; it is printed once, as the last line, and only its hash is stored."""
    from storage.api_keys import create_api_key

    with opened_store() as store:
        key = create_api_key(store, name)
    typer.echo(f"created API key {name!r}; store it now, it cannot be shown again:", err=True)
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """List live API keys by hash prefix and name."""
    from storage.api_keys import list_api_keys

    with opened_store() as store:
        for prefix, name, created in list_api_keys(store):
            typer.echo(f"{prefix}\t{name}\t{created}")


@keys_app.command("revoke")
def keys_revoke(
    hash_prefix: Annotated[str, typer.Argument(help="Hash prefix shown by `teller api-keys list`.")],
) -> None:
    """Revoke an API key by the hash prefix `api-keys list` shows."""
    from storage.api_keys import live_key_hashes, revoke_api_key

    with opened_store() as store:
        matches = [h for h in live_key_hashes(store) if h.startswith(hash_prefix)]
        if len(matches) != 1:
            fail(f"{len(matches)} live keys match {hash_prefix!r}; give a longer prefix")
        revoke_api_key(store, matches[0])
    typer.echo(f"revoked {hash_prefix}")


def _read_password() -> str:
    """A new password: prompted twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="The user's e-mail address, used to log in.")],
    role: Annotated[str, typer.Option(help="admin (manages sites, users, API keys) or viewer (reads).")] = "viewer",
) -> None:
    """Create a dashboard user; the password is prompted for, or read from standard input when it is piped."""
    from storage.users import add_user, check_password

    password = _read_password()
    try:
        check_password(password)
    except ValueError as error:
        fail(str(error))
    with opened_store() as store:
        try:
            user = add_user(store, email, password, role)
        except ValueError as error:
            fail(str(error))
    typer.echo(f"added {user.email} ({user.role})")


@users_app.command("password")
def users_password(email: Annotated[str, typer.Argument(help="A user's e-mail address.")]) -> None:
    """Set a new password for a user, which ends their sessions (prompted, or read from standard input)."""
    from storage.users import set_password

    password = _read_password()
    with opened_store() as store:
        try:
            set_password(store, email, password)
        except ValueError as error:
            fail(str(error))
    typer.echo(f"changed the password of {email.strip().lower()}")


@users_app.command("list")
def users_list() -> None:
    """List dashboard users and their roles."""
    from storage.users import list_users

    with opened_store() as store:
        users = list_users(store)
    for user in users:
        typer.echo(f"{user.email}\t{user.role}")
    if not users:
        typer.echo("no users yet: add one with `teller users add you@example.com --role admin`", err=True)


@users_app.command("remove")
def users_remove(email: Annotated[str, typer.Argument(help="A user's e-mail address.")]) -> None:
    """Remove a dashboard user; their sessions end within 5 seconds."""
    from storage.users import remove_user

    with opened_store() as store:
        try:
            remove_user(store, email)
        except ValueError as error:
            fail(str(error))
    typer.echo(f"removed {email.strip().lower()}")


def _registered(store: Store, site: str) -> None:
    """Stop with an error unless site is a registered domain."""
    from storage.sites import list_sites

    if site not in {s.domain for s in list_sites(store)}:
        fail(f"{site} is not a registered site (see `teller sites list`)")


@goals_app.command("add")
def goals_add(
    site: Annotated[str, typer.Argument(help="A registered domain.")],
    kind: Annotated[str, typer.Option(help="pageview, event or scroll.")] = "pageview",
    pattern: Annotated[str, typer.Option(help="Path pattern (pageview, scroll): * within a segment, ** any.")] = "",
    event: Annotated[str, typer.Option(help="Custom event name (event goals).")] = "",
    prop: Annotated[str, typer.Option(help="key=value: the event must carry this property value.")] = "",
    depth: Annotated[int, typer.Option(help="Scroll depth in percent (scroll goals).")] = 0,
    name: Annotated[str, typer.Option(help="Display name [default: from the definition].")] = "",
) -> None:
    """Add a goal to a site."""
    from storage.goals import GoalError, add_goal, make_goal

    key, _, value = prop.partition("=")
    with opened_store() as store:
        _registered(store, site)
        try:
            goal = add_goal(
                store,
                make_goal(
                    site,
                    kind,
                    pattern=pattern,
                    event_name=event,
                    prop_key=key,
                    prop_value=value,
                    depth=depth,
                    display_name=name,
                ),
            )
        except GoalError as error:
            fail(str(error))
    typer.echo(f"added goal {goal.display_name!r} ({goal.goal_id})")


@goals_app.command("list")
def goals_list(site: Annotated[str, typer.Argument(help="A registered domain.")]) -> None:
    """List a site's goals: id, kind, display name and definition."""
    from storage.goals import list_goals

    with opened_store() as store:
        goals = list_goals(store, site)
    for goal in goals:
        definition = goal.pattern or goal.event_name
        if goal.prop_key:
            definition += f" {goal.prop_key}={goal.prop_value}"
        if goal.depth:
            definition += f" {goal.depth}%"
        typer.echo(f"{goal.goal_id}\t{goal.kind}\t{goal.display_name}\t{definition}")
    if not goals:
        typer.echo(f"no goals yet: add one with `teller goals add {site} --pattern /signup`", err=True)


@goals_app.command("remove")
def goals_remove(
    site: Annotated[str, typer.Argument(help="A registered domain.")],
    goal: Annotated[str, typer.Argument(help="The goal's id or display name.")],
) -> None:
    """Remove a goal (events stay; the goal no longer counts them)."""
    from storage.goals import remove_goal

    with opened_store() as store:
        if not remove_goal(store, site, goal):
            fail(f"{site} has no goal {goal!r}")
    typer.echo(f"removed goal {goal!r}")


@funnels_app.command("add")
def funnels_add(
    site: Annotated[str, typer.Argument(help="A registered domain.")],
    name: Annotated[str, typer.Argument(help="The funnel's name.")],
    steps: Annotated[list[str], typer.Argument(help="2 to 8 goal display names, in order.")],
) -> None:
    """Add a funnel of goals to a site."""
    from storage.goals import GoalError, add_funnel, make_funnel

    with opened_store() as store:
        _registered(store, site)
        try:
            funnel = add_funnel(store, make_funnel(store, site, name, steps))
        except GoalError as error:
            fail(str(error))
    typer.echo(f"added funnel {funnel.name!r} ({funnel.funnel_id})")


@funnels_app.command("list")
def funnels_list(site: Annotated[str, typer.Argument(help="A registered domain.")]) -> None:
    """List a site's funnels and their steps."""
    from storage.goals import list_funnels

    with opened_store() as store:
        for funnel in list_funnels(store, site):
            typer.echo(f"{funnel.funnel_id}\t{funnel.name}\t{' > '.join(funnel.steps)}")


@funnels_app.command("remove")
def funnels_remove(
    site: Annotated[str, typer.Argument(help="A registered domain.")],
    funnel: Annotated[str, typer.Argument(help="The funnel's id or name.")],
) -> None:
    """Remove a funnel."""
    from storage.goals import remove_funnel

    with opened_store() as store:
        if not remove_funnel(store, site, funnel):
            fail(f"{site} has no funnel {funnel!r}")
    typer.echo(f"removed funnel {funnel!r}")


@retention_app.command("run")
def retention_run() -> None:
    """Apply retention now: raw events, rollups, search aggregates and salts past their periods."""
    from storage.retention import apply_retention, policy_from
    from storage.salts import delete_old_salts

    settings = Settings()
    policy = policy_from(settings)
    with opened_store() as store:
        removed = apply_retention(store, policy)
        delete_old_salts(store)
    typer.echo(
        f"kept raw events {policy.events_days} days, rollups {policy.rollup_months} months, "
        f"search terms {policy.search_months} months, salts 2 days"
    )
    for table, rows in removed.items():
        typer.echo(f"removed {rows} rows from {table}")
    if not removed:
        typer.echo("nothing to remove")


@reports_app.command("add")
def reports_add(
    domain: Annotated[str, typer.Argument(help="A registered domain.")],
    address: Annotated[str, typer.Argument(help="The e-mail address to send to.")],
    kind: Annotated[str, typer.Option(help="weekly, monthly or spike (a traffic-spike alert).")] = "weekly",
    threshold: Annotated[int, typer.Option(help="spike: alert when the last hour's visitors exceed this.")] = 0,
    every_hours: Annotated[int, typer.Option(help="spike: at most one alert in this many hours.")] = 24,
) -> None:
    """Send a site's weekly or monthly report, or its traffic-spike alerts, to an address."""
    from storage.report_subscriptions import add_subscription
    from storage.sites import list_sites, normalise_domain

    with opened_store() as store:
        try:
            domain = normalise_domain(domain)
            if domain not in {site.domain for site in list_sites(store)}:
                fail(f"no site {domain}: add it with `teller sites add {domain}`")
            sub = add_subscription(store, domain, kind, address, threshold, every_hours, "cli")
        except ValueError as error:
            fail(str(error))
    typer.echo(f"added {sub.kind} for {sub.address} on {sub.site}")


@reports_app.command("list")
def reports_list(domain: Annotated[str | None, typer.Argument(help="Only this site.")] = None) -> None:
    """List subscriptions: site, kind, address, and a spike alert's threshold and hours."""
    from storage.report_subscriptions import list_subscriptions

    with opened_store() as store:
        subscriptions = list_subscriptions(store, domain)
    for sub in subscriptions:
        extra = f"\t>{sub.threshold} visitors/h, every {sub.every_hours} h" if sub.kind == "spike" else ""
        typer.echo(f"{sub.site}\t{sub.kind}\t{sub.address}{extra}")
    if not subscriptions:
        typer.echo("no subscriptions", err=True)


@reports_app.command("remove")
def reports_remove(
    domain: Annotated[str, typer.Argument(help="A registered domain.")],
    address: Annotated[str, typer.Argument(help="The subscribed address.")],
    kind: Annotated[str, typer.Option(help="weekly, monthly or spike.")] = "weekly",
) -> None:
    """Stop sending a site's report (or alerts) to an address."""
    from storage.report_subscriptions import remove_subscription

    with opened_store() as store:
        if not remove_subscription(store, domain, kind, address):
            fail(f"{address} has no {kind} subscription on {domain}")
    typer.echo(f"removed {kind} for {address.strip().lower()} on {domain}")


@app.command(
    "demo-data",
    help="Fill a site with realistic synthetic history: visits, referrers, campaigns, browsers, countries, "
    "engagement and custom events, enriched by the collector's own functions and written in large batches to the "
    "events table and its rollups. With the embedded engine it opens the data dir itself: stop `teller serve` "
    "first. Raw events older than TELLER_RETENTION_EVENTS_DAYS go at the next retention run; the rollups stay.",
)
def demo_data(
    site: Annotated[str, typer.Option(help="Domain to fill; it is registered if it is not.")] = "example.com",
    events: Annotated[int, typer.Option(min=1, help="Number of events to write.")] = 1_000_000,
    days: Annotated[int, typer.Option(min=1, max=3660, help="Days of history, ending now.")] = 365,
    seed: Annotated[int, typer.Option(help="Seed of the random generator (same seed, same data).")] = 1,
) -> None:
    """Fill a site with realistic synthetic history."""
    import time

    from storage.sites import add_site, list_sites, normalise_domain
    from teller.demo_data import fill

    try:
        domain = normalise_domain(site)
    except ValueError as error:
        fail(str(error))
    with opened_store() as store:
        if domain not in {known.domain for known in list_sites(store)}:
            add_site(store, domain, Settings().timezone)
        started = time.perf_counter()
        with typer.progressbar(length=events, label=f"writing {events:,} events for {domain}", file=sys.stderr) as bar:
            written = fill(store, domain, events, days, seed, progress=bar.update)
        elapsed = time.perf_counter() - started
    typer.echo(f"wrote {written:,} events over {days} days in {elapsed:.1f} s ({written / elapsed:,.0f} events/s)")


def _registered(store: Store, site: str) -> str:
    """A registered site's domain, or a one-line error."""
    from storage.sites import list_sites, normalise_domain

    try:
        domain = normalise_domain(site)
    except ValueError as error:
        fail(str(error))
    if domain not in {known.domain for known in list_sites(store)}:
        fail(f"{domain} is not a registered site (add it with `teller sites add {domain}`)")
    return domain


@import_app.command("plausible")
def import_plausible(
    file: Annotated[str, typer.Argument(help="The zip of CSV files Plausible exports (imported_*.csv).")],
    site: Annotated[str, typer.Option(help="The registered site the statistics are for.")],
) -> None:
    """Import a Plausible CSV export; importing the same file again replaces it."""
    import os

    from storage.plausible_import import ImportRefused, import_plausible_zip

    if not os.path.isfile(file):
        fail(f"{file}: no such file")
    with opened_store() as store:
        domain = _registered(store, site)
        shown = [0]
        with typer.progressbar(length=1, label=f"importing {os.path.basename(file)}", file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - shown[0])
                shown[0] = done

            try:
                result = import_plausible_zip(store, domain, file, os.path.basename(file), progress)
            except ImportRefused as error:
                fail(str(error))
    rate = result.total_rows / result.seconds if result.seconds else 0
    typer.echo(
        f"imported {result.total_rows:,} rows for {domain}, {result.first_day} to {result.last_day}, "
        f"in {result.seconds:.1f} s ({rate:,.0f} rows/s); import {result.import_id}"
    )
    for table, count in sorted(result.rows.items()):
        typer.echo(f"  {table}\t{count}")


@imports_app.command("list")
def imports_list(site: Annotated[str, typer.Option(help="A registered site.")]) -> None:
    """List a site's imports: id, source, days, rows, file."""
    from storage.imported import list_imports

    with opened_store() as store:
        records = list_imports(store, _registered(store, site))
    for record in records:
        typer.echo(
            f"{record.import_id}\t{record.source}\t{record.first_day}..{record.last_day}\t"
            f"{record.row_count} rows\t{record.file_name}"
        )
    if not records:
        typer.echo("no imports", err=True)


@imports_app.command("delete")
def imports_delete(
    import_id: Annotated[int, typer.Argument(help="An import's id, as `teller imports list` shows it.")],
    site: Annotated[str, typer.Option(help="The site the import belongs to.")],
) -> None:
    """Delete one import's statistics."""
    from storage.imported import delete_import

    with opened_store() as store:
        if not delete_import(store, _registered(store, site), import_id):
            fail(f"{site} has no import {import_id}")
    typer.echo(f"deleted import {import_id}")


@app.command("export")
def export_command(
    site: Annotated[str, typer.Option(help="The registered site to export.")],
    output: Annotated[str, typer.Option(help="Zip file to write [default: Plausible's name for it].")] = "",
) -> None:
    """Write a Plausible-compatible CSV export (imported_*.csv in a zip) of a site's statistics."""
    from dashboard.plausible_export import archive_name, export_range, write_export
    from storage.sites import list_sites

    with opened_store() as store:
        domain = _registered(store, site)
        timezone = next(known.timezone for known in list_sites(store) if known.domain == domain)
        first, last = export_range(store, domain, timezone)
        path = output or archive_name(domain, last)
        with (
            open(path, "wb") as target,
            typer.progressbar(length=10, label=f"exporting {domain}", file=sys.stderr) as bar,
        ):
            counts = write_export(store, domain, timezone, first, last, target, lambda done, total: bar.update(1))
    typer.echo(f"wrote {path}: {sum(counts.values()):,} rows, {first} to {last}")


@app.command(
    "import-logs",
    help="Count page views from server access logs (gzip too), without JavaScript: successful page GETs go "
    "through the collector's pipeline with the log's timestamps; assets, redirects, errors and other methods are "
    "skipped and counted. Lines already imported (a file again, an overlapping rotated one) are skipped. With the "
    "embedded engine it opens the data dir itself: stop `teller serve` first, or use the server engine.",
)
def import_logs(
    files: Annotated[list[Path], typer.Argument(help="Access log files, plain or gzip, oldest first.")],
    site: Annotated[str, typer.Option(help="The registered site the logs belong to.")],
    log_format: Annotated[
        str, typer.Option("--format", help="combined, common, vhost-combined or caddy-json.")
    ] = "combined",
    follow: Annotated[
        bool, typer.Option(help="After the end of the (single) file, keep reading what is appended.")
    ] = False,
) -> None:
    """Import server access logs."""
    import time

    from collector.access_log.formats import PARSERS
    from collector.access_log.importer import LogImporter, follow_file, import_files
    from collector.ingest.state import SharedState
    from storage.retention import cutoff_for, policy_from
    from storage.sites import normalise_domain

    if log_format not in PARSERS:
        fail(f"unknown format {log_format!r}; known: {', '.join(PARSERS)}")
    if follow and len(files) != 1:
        fail("--follow reads one file")
    for path in files:
        if not path.is_file():
            fail(f"{path}: no such file")
    try:
        domain = normalise_domain(site)
    except ValueError as error:
        fail(str(error))
    settings = Settings()
    today = time.gmtime()
    import datetime as dt

    cutoff = cutoff_for("rollups", policy_from(settings), dt.date(today.tm_year, today.tm_mon, today.tm_mday))
    oldest_kept = int(dt.datetime.combine(cutoff, dt.time(), dt.UTC).timestamp())
    with opened_store() as store:
        state = SharedState(store)
        state.refresh()
        try:
            importer = LogImporter(state, domain, log_format, oldest_kept)
        except ValueError as error:
            fail(str(error))
        started = time.perf_counter()
        if follow:
            typer.echo(f"following {files[0]} (Ctrl-C to stop)", err=True)
            interrupted = []

            def report(result: object) -> None:
                rate = result.lines / max(time.perf_counter() - started, 1e-9)  # type: ignore[attr-defined]
                typer.echo(
                    f"\r{result.lines:,} lines, {result.stored:,} page views, {rate:,.0f} lines/s", nl=False, err=True
                )  # type: ignore[attr-defined]

            try:
                result = follow_file(importer, files[0], lambda: not interrupted, report)
            except KeyboardInterrupt:
                interrupted.append(True)
                result = importer.result
            typer.echo("", err=True)
            result = importer.finish()
        else:
            total = sum(path.stat().st_size for path in files)
            with typer.progressbar(
                length=max(total, 1), label=f"importing {len(files)} file(s) for {domain}", file=sys.stderr,
            ) as bar:  # fmt: skip
                seen = [0]

                def progress(lines: int, done: int) -> None:
                    rate = lines / max(time.perf_counter() - started, 1e-9)
                    bar.label = f"importing for {domain}: {lines:,} lines, {rate:,.0f} lines/s"
                    bar.update(done - seen[0])
                    seen[0] = done

                import_files(importer, files, progress)
            result = importer.finish()
    elapsed = time.perf_counter() - started
    typer.echo(
        f"read {result.lines:,} lines in {elapsed:.1f} s ({result.lines / max(elapsed, 1e-9):,.0f} lines/s): "
        f"{result.stored:,} page views stored, {result.visits:,} visits derived"
    )
    for reason, count in sorted(result.skipped.items(), key=lambda item: (-item[1], item[0])):
        typer.echo(f"skipped {count:,} {reason}")


@app.command(
    help="Erase a site's raw events (all, a page pattern, a period) and everything derived from them: visits, "
    "rollups and, without --page, search terms and log fingerprints. Prints the rows affected first and asks."
)
def erase(
    site: Annotated[str, typer.Option(help="The site whose data is erased.")],
    page: Annotated[str, typer.Option(help="Only pages matching this pattern (* any characters, ? one).")] = "",
    from_day: Annotated[str, typer.Option("--from", help="First UTC day erased (YYYY-MM-DD).")] = "",
    to_day: Annotated[str, typer.Option("--to", help="Last UTC day erased (YYYY-MM-DD).")] = "",
    dry_run: Annotated[bool, typer.Option(help="Only print what would be erased.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Erase without asking.")] = False,
) -> None:
    """Erase a site's data."""
    import datetime as dt

    from storage.erase import counts, day_range
    from storage.erase import erase as erase_selection
    from storage.sites import normalise_domain

    try:
        domain = normalise_domain(site)
        first = dt.date.fromisoformat(from_day) if from_day else None
        last = dt.date.fromisoformat(to_day) if to_day else None
    except ValueError as error:
        fail(str(error))
    if first and last and last < first:
        fail("--to is before --from")
    selection = day_range(domain, page, first, last)
    with opened_store() as store:
        before = counts(store, selection)
        for table, count in before.items():
            typer.echo(f"{table}: {count:,} rows")
        if dry_run:
            typer.echo("dry run: nothing erased")
            return
        if not yes and not typer.confirm("Erase these rows and recount what derives from them?"):
            typer.echo("nothing erased")
            return
        erase_selection(store, selection)
        after = counts(store, selection)
    for table, count in after.items():
        typer.echo(f"{table}: {before[table]:,} -> {count:,} rows")


def main() -> None:
    """Entry point of the console script."""
    try:
        _forward_to_serving_process(sys.argv[1:])
        app()
    except typer.Exit as done:  # a one-line failure before the command ran
        sys.exit(done.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
