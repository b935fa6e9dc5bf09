"""Visits as the Plausible trackers send them: pageviews, SPA navigations, engagement, custom events, bots."""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from teller.demo_pools import CAMPAIGN_SHARE, CAMPAIGNS, SCREEN_WIDTHS, page_paths, public_ipv4, referrer_pool
from teller.demo_pools import search_path as site_search_path
from teller.demo_pools import user_agents as browser_agents

# (domain, share of visits, single-page app); the last one is not registered, so its events are dropped.
SITES = (
    ("example.com", 50, False),
    ("shop.example.com", 20, False),
    ("docs.example.org", 15, False),
    ("app.example.net", 14, True),
    ("unregistered.example", 1, False),
)
REGISTERED = tuple(domain for domain, _, _ in SITES[:-1])

# Crawlers, monitors, headless browsers and HTTP libraries; Teller answers 202 and drops them.
BOTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 "
    "Safari/537.36",
    "python-requests/2.32.3",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "UptimeRobot/2.0; http://www.uptimerobot.com/",
)
BOT_SHARE = 0.08
# Share of visitors (and of bots) drawn from the extra corpus when one is given: the long tail.
EXTRA_SHARE = 0.05
CUSTOM_EVENTS = (
    ("Signup", {"plan": "free"}),
    ("Signup", {"plan": "pro"}),
    ("Outbound Link: Click", {"url": "https://github.com/teller/teller"}),
    ("File Download", {"url": "https://example.com/files/whitepaper.pdf"}),
    ("Form: Submission", {"path": "/contact"}),
)


@dataclass(slots=True)
class Hit:
    """One request of a visit: the tracker body and the headers a browser sends with it."""

    body: dict[str, Any]
    user_agent: str
    forwarded_for: str

    def encoded(self) -> bytes:
        """The body as the tracker sends it."""
        return orjson.dumps(self.body)


@dataclass
class Traffic:
    """A seeded source of visits; the same seed gives the same requests."""

    seed: int = 1
    extra_agents: list[str] = field(default_factory=list)
    extra_bots: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.referrers = referrer_pool(self.rng)
        self.pages = {domain: page_paths(self.rng) for domain, _, _ in SITES}
        # A visitor pool, so returning visitors and the cache hit rate look like a real site's.
        self.agents = browser_agents(self.rng, 4000)
        self.bots = list(BOTS)

    def _pick(self, pool: list[tuple[str, float]]) -> str:
        """A weighted choice from (value, weight) pairs."""
        values, weights = zip(*pool, strict=True)
        return self.rng.choices(values, weights)[0]

    def visit(self) -> list[Hit]:
        """The requests of one visit, in the order the browser sends them."""
        rng = self.rng
        domain, _, spa = rng.choices(SITES, [share for _, share, _ in SITES])[0]
        address = public_ipv4(rng)
        if rng.random() < BOT_SHARE:
            agent = rng.choice(self._extra_or(self.extra_bots, self.bots))
            pages = rng.randint(1, 5)
            return [Hit(self._pageview(domain, self._path(domain), ""), agent, address) for _ in range(pages)]
        agent = rng.choice(self._extra_or(self.extra_agents, self.agents))
        width = rng.choices(*zip(*SCREEN_WIDTHS, strict=True))[0]
        referrer = self._pick(self.referrers)
        path = self._path(domain)
        if rng.random() < CAMPAIGN_SHARE:
            path += ("&" if "?" in path else "?") + self._pick(list(CAMPAIGNS))
        hits: list[Hit] = []
        pages = 1 + min(int(rng.expovariate(0.7)), 12)
        for page in range(pages):
            if spa and page:
                # A hash-routed navigation: same document, so the landing referrer stays.
                path = "/#/" + path.lstrip("/")
            url = f"https://{domain}{path}"
            body = self._pageview(domain, path, referrer, width)
            if spa:
                body["h"] = 1
            hits.append(Hit(body, agent, address))
            if rng.random() < 0.08:
                name, props = rng.choice(CUSTOM_EVENTS)
                hits.append(Hit({"n": name, "u": url, "d": domain, "r": referrer or None, "p": props}, agent, address))
            if rng.random() < 0.6:
                engagement = {
                    "n": "engagement",
                    "u": url,
                    "d": domain,
                    "sd": rng.randint(5, 100),
                    "e": int(rng.lognormvariate(9.5, 1.2)),
                    "v": 36,
                }
                hits.append(Hit(engagement, agent, address))
            if not spa:
                # The next page of a multi-page site has this one as referrer (a self-referral: direct).
                referrer = url
            path = self._path(domain)
        return hits

    def _extra_or(self, extra: list[str], usual: list[str]) -> list[str]:
        """The extra corpus for a small share of draws, when there is one."""
        return extra if extra and self.rng.random() < EXTRA_SHARE else usual

    def _path(self, domain: str) -> str:
        """A page of the site; one page in twenty is a site-search result."""
        if self.rng.random() < 0.05:
            return site_search_path(self.rng)
        return self._pick(self.pages[domain])

    def _pageview(self, domain: str, path: str, referrer: str, width: int = 0) -> dict[str, Any]:
        """A pageview body; a third of them in the legacy tracker's shape (props as a JSON string)."""
        body: dict[str, Any] = {"n": "pageview", "u": f"https://{domain}{path}", "d": domain, "r": referrer or None}
        if self.rng.random() < 0.33:
            body.update(w=width, h=0, p=orjson.dumps({"logged_in": "no"}).decode())
        else:
            body["v"] = 36
        return body

    def hits(self) -> Iterator[Hit]:
        """Endless requests, visit after visit."""
        while True:
            yield from self.visit()

    def sample(self, count: int) -> list[Hit]:
        """The first count requests."""
        stream = self.hits()
        return [next(stream) for _ in range(count)]
