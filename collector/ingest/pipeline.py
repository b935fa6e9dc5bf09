"""The ingest pipeline: a list of small named steps from a validated request to a stored row.

The client IP arrives here already truncated to its /24 (IPv4) or /48 (IPv6) prefix; the full
address never reaches any step.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from collector.ingest.bots import is_bot
from collector.ingest.event import Event
from collector.ingest.geo import country_of
from collector.ingest.page_url import parse_page_url
from collector.ingest.referrer import classify_referrer
from collector.ingest.request import EventRequest
from collector.ingest.search_terms import (
    SEARCH_EVENT,
    Search,
    clean_props,
    explicit_search,
    page_term,
    strip_search_params,
)
from collector.ingest.state import SharedState
from collector.ingest.useragent import parse_user_agent
from collector.ingest.visitor import visitor_id
from storage.path_scrub import scrub_path
from storage.search_params import search_names
from storage.sessions import IDLE_SECONDS as VISIT_IDLE_SECONDS

MAX_REFERRER = 2000


class Dropped(Exception):
    """The event is not stored; the reason goes into the X-Teller-Dropped header."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Context:
    """What the steps read and fill in for one event of one site."""

    request: EventRequest
    site: str
    ip_prefix: str
    user_agent: str
    now: float
    prefetch: bool = False
    do_not_track: bool = False
    search: Search | None = None
    keep_event: bool = True
    event: Event = field(init=False)

    def __post_init__(self) -> None:
        self.event = Event(site=self.site, ts=int(self.now), name=self.request.name)


Step = Callable[[Context, SharedState], None]


def drop_prefetch(ctx: Context, state: SharedState) -> None:
    """Browsers' speculative loads are not visits."""
    if ctx.prefetch:
        raise Dropped("prefetch")


def drop_bots(ctx: Context, state: SharedState) -> None:
    """Crawlers, headless browsers and HTTP libraries are not visitors."""
    if is_bot(ctx.user_agent):
        raise Dropped("bot")


def drop_unknown_site(ctx: Context, state: SharedState) -> None:
    """Only registered sites are stored."""
    if ctx.site not in state.sites:
        raise Dropped("unknown_site")


def drop_do_not_track(ctx: Context, state: SharedState) -> None:
    """DNT: 1 and Sec-GPC: 1 are honoured unless the site turned that off."""
    if ctx.do_not_track and state.sites[ctx.site].respect_dnt:
        raise Dropped("do_not_track")


def put_page(ctx: Context, state: SharedState) -> None:
    """Host, path and UTM values of the page; the query string is not kept."""
    try:
        page = parse_page_url(ctx.request.url, ctx.request.hash_mode)
    except ValueError:
        raise Dropped("invalid_url") from None
    event = ctx.event
    event.hostname = page.hostname
    event.pathname = scrub_path(page.pathname)
    event.utm_source, event.utm_medium, event.utm_campaign, event.utm_content, event.utm_term = page.utm


def put_referrer(ctx: Context, state: SharedState) -> None:
    """Referrer host and source class; self-referrals count as direct."""
    event = ctx.event
    referrer = classify_referrer(ctx.request.referrer or None, event.hostname, event.utm_source or None)
    event.referrer_host = referrer.host
    event.source = referrer.source
    event.source_class = referrer.source_class
    if referrer.host:
        event.referrer = ctx.request.referrer.split("?", 1)[0].split("#", 1)[0][:MAX_REFERRER]


def drop_referrer_spam(ctx: Context, state: SharedState) -> None:
    """A referrer host on the spam list (or a subdomain of one) is a spammer advertising, not a visit."""
    if ctx.event.referrer_host and ctx.event.referrer_host in state.referrer_spam:
        raise Dropped("referrer_spam")


def put_user_agent(ctx: Context, state: SharedState) -> None:
    """Browser, OS and device class from the user agent."""
    client = parse_user_agent(ctx.user_agent)
    event = ctx.event
    event.browser = client.browser
    event.browser_version = client.browser_version
    event.os = client.os
    event.os_version = client.os_version
    event.device = client.device


def put_country(ctx: Context, state: SharedState) -> None:
    """Country from the truncated prefix, with the offline database."""
    ctx.event.country = country_of(ctx.ip_prefix)


def put_visitor_id(ctx: Context, state: SharedState) -> None:
    """Keyed hash of today's salt, site, IP prefix and user agent."""
    salt = state.salt_for(ctx.now)
    if salt is None:
        raise Dropped("no_salt")
    ctx.event.visitor_id = visitor_id(salt, ctx.site, ctx.ip_prefix, ctx.user_agent)
    # In a UTC day's first 30 minutes a visit may continue from yesterday: keep yesterday's hash too.
    previous = state.salt_for(ctx.now - 86400) if ctx.now % 86400 < VISIT_IDLE_SECONDS else None
    if previous is not None:
        ctx.event.previous_visitor_id = visitor_id(previous, ctx.site, ctx.ip_prefix, ctx.user_agent)


def put_details(ctx: Context, state: SharedState) -> None:
    """Screen width, interactivity, engagement and custom properties."""
    request, event = ctx.request, ctx.event
    event.screen_width = request.screen_width
    event.interactive = int(request.interactive)
    event.engagement_ms = request.engagement_ms
    event.scroll_depth = request.scroll_depth
    if request.props:
        event.prop_keys = list(request.props)
        event.prop_values = list(request.props.values())


def put_search(ctx: Context, state: SharedState) -> None:
    """Site-search term of a pageview URL or a "search" event, for search_terms only; cut from the row."""
    request, event = ctx.request, ctx.event
    names = search_names(state.sites[ctx.site].search_params)
    term = page_term(request.url, request.hash_mode, names)
    if request.name == SEARCH_EVENT:
        # A search event becomes an aggregate only: no row ties it to a visitor or a time.
        ctx.keep_event = False
        ctx.search = explicit_search(request.props, term)
        if ctx.search is None:
            raise Dropped("no_search_term")
        return
    if term and request.name == "pageview":
        ctx.search = Search(term, 1, 0)
    event.pathname = strip_search_params(event.pathname, names)
    if event.prop_values and (term or names):
        event.prop_keys, event.prop_values = clean_props(event.prop_keys, event.prop_values, term, names)


STEPS: tuple[Step, ...] = (
    drop_prefetch,
    drop_bots,
    drop_unknown_site,
    drop_do_not_track,
    put_page,
    put_referrer,
    drop_referrer_spam,
    put_user_agent,
    put_country,
    put_visitor_id,
    put_details,
    put_search,
)


def run_pipeline(ctx: Context, state: SharedState, steps: tuple[Step, ...] = STEPS) -> Event:
    """Run every step in order; a step raises Dropped to stop the event."""
    for step in steps:
        step(ctx, state)
    return ctx.event
