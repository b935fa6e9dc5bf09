"""Realistic traffic ingredients: browser user agents, referrers, pages, campaigns and visitor addresses."""

import csv
import random
from dataclasses import dataclass
from functools import cache
from ipaddress import IPv4Address
from pathlib import Path

AGENTS_FILE = Path(__file__).with_name("demo_agents.tsv")

# Release mixes behind the placeholders of demo_agents.tsv: (value, relative share), newest last.
VERSIONS: dict[str, tuple[tuple[str, float], ...]] = {
    "chrome": (("126", 2), ("127", 3), ("128", 4), ("129", 6), ("130", 25), ("131", 60)),
    "edge": (("129", 5), ("130", 25), ("131", 70)),
    "firefox": (("115", 6), ("128", 14), ("131", 20), ("132", 30), ("133", 30)),
    "opera": (("113", 20), ("114", 40), ("115", 40)),
    "samsung": (("25", 25), ("26", 45), ("27", 30)),
    "safari": (("16.6", 5), ("17.5", 8), ("17.6", 22), ("18.0", 15), ("18.1", 40), ("18.2", 10)),
    "ios": (("16_7_10", 5), ("17_5_1", 8), ("17_6_1", 22), ("18_0_1", 15), ("18_1", 25), ("18_1_1", 25)),
    "macos": (("10_15_7", 95), ("10_15_6", 5)),
    "android": (("12", 15), ("13", 25), ("14", 40), ("15", 20)),
}


@dataclass(frozen=True, slots=True)
class Agent:
    """A user-agent template with its share of traffic and the labels Teller's parser gives it."""

    weight: float
    browser: str
    os: str
    device: str
    template: str

    def fill(self, rng: random.Random) -> str:
        """The template with every placeholder drawn from its release mix."""
        text = self.template
        while "{" in text:
            name = text[text.index("{") + 1 : text.index("}")]
            values, weights = zip(*VERSIONS[name], strict=True)
            text = text.replace("{" + name + "}", rng.choices(values, weights)[0])
        return text


@cache
def agents() -> tuple[Agent, ...]:
    """Every browser template of demo_agents.tsv."""
    with AGENTS_FILE.open(encoding="utf-8") as file:
        lines = [line for line in file if not line.startswith("#")]
    return tuple(
        Agent(float(row["weight"]), row["browser"], row["os"], row["device"], row["user_agent"])
        for row in csv.DictReader(lines, delimiter="\t")
    )


def user_agents(rng: random.Random, count: int) -> list[str]:
    """count user agents drawn with their traffic shares (the same string repeats, as for real visitors)."""
    pool = agents()
    picked = rng.choices(pool, [agent.weight for agent in pool], k=count)
    return [agent.fill(rng) for agent in picked]


# (referrer URL, weight): search engines, social networks, webmail, other sites; "" is a direct visit.
SEARCH = (
    ("https://www.google.com/", 30),
    ("https://www.google.no/", 3),
    ("https://www.google.de/", 3),
    ("https://www.google.co.uk/", 3),
    ("android-app://com.google.android.googlequicksearchbox/", 2),
    ("https://www.bing.com/", 4),
    ("https://duckduckgo.com/", 2.5),
    ("https://www.ecosia.org/", 0.6),
    ("https://yandex.ru/", 0.8),
    ("https://search.brave.com/", 0.4),
    ("https://www.startpage.com/", 0.2),
)
SOCIAL = (
    ("https://l.facebook.com/", 2.5),
    ("https://m.facebook.com/", 1.0),
    ("https://t.co/", 1.5),
    ("https://www.reddit.com/r/programming/", 0.8),
    ("https://out.reddit.com/", 0.4),
    ("https://www.linkedin.com/", 1.0),
    ("https://lnkd.in/", 0.3),
    ("https://news.ycombinator.com/", 0.7),
    ("https://www.youtube.com/", 0.6),
    ("https://l.instagram.com/", 0.5),
    ("https://bsky.app/", 0.2),
    ("https://mastodon.social/", 0.2),
)
EMAIL = (("https://mail.google.com/", 0.5), ("https://outlook.live.com/", 0.3))
OTHER_HOSTS = (
    "github.com",
    "stackoverflow.com",
    "en.wikipedia.org",
    "medium.com",
    "dev.to",
    "producthunt.com",
    "lobste.rs",
    "chatgpt.com",
    "perplexity.ai",
    "blog.example.org",
    "news.example.net",
    "forum.example.info",
)
DIRECT_SHARE = 38.0

CAMPAIGNS = (
    ("utm_source=newsletter&utm_medium=email&utm_campaign=weekly", 4),
    ("utm_source=google&utm_medium=cpc&utm_campaign=brand", 3),
    ("utm_source=facebook&utm_medium=social&utm_campaign=spring_sale", 1.5),
    ("utm_source=twitter&utm_medium=social", 1),
    ("utm_source=partner&utm_medium=referral&utm_campaign=launch&utm_content=banner", 0.5),
    ("ref=producthunt", 0.5),
)
CAMPAIGN_SHARE = 0.08

SEARCH_TERMS = (
    "pricing",
    "privacy",
    "gdpr",
    "export csv",
    "api",
    "dark mode",
    "self hosted",
    "docker",
    "cookie banner",
    "goals",
    "funnels",
    "import",
)
SECTIONS = ("blog", "docs", "products", "guides", "changelog")
WORDS = (
    "analytics",
    "privacy",
    "cookieless",
    "tracking",
    "dashboard",
    "retention",
    "funnel",
    "growth",
    "events",
    "referrers",
    "setup",
    "migration",
    "release",
    "notes",
    "intro",
    "deep-dive",
)
SCREEN_WIDTHS = (
    (390, 20),
    (393, 10),
    (412, 12),
    (430, 8),
    (768, 3),
    (820, 3),
    (1280, 8),
    (1366, 7),
    (1440, 8),
    (1536, 6),
    (1920, 13),
    (2560, 2),
)


def referrer_pool(rng: random.Random, other_pages: int = 4) -> list[tuple[str, float]]:
    """Referrer URLs with weights, direct visits ("") included; other sites link from several pages."""
    pool: list[tuple[str, float]] = [("", DIRECT_SHARE), *SEARCH, *SOCIAL, *EMAIL]
    for index, host in enumerate(OTHER_HOSTS):
        weight = 3.0 / (index + 1)
        for page in range(other_pages):
            slug = "-".join(rng.sample(WORDS, 2))
            pool.append((f"https://{host}/{slug}-{page}", weight / other_pages))
    return pool


def page_paths(rng: random.Random, count: int = 400) -> list[tuple[str, float]]:
    """Paths of a site with Zipf-like popularity: home and pricing first, then a long tail of articles."""
    head = ["/", "/pricing", "/about", "/contact", "/blog", "/docs", "/signup", "/login", "/features"]
    paths = list(head)
    while len(paths) < count:
        section = rng.choice(SECTIONS)
        paths.append(f"/{section}/{'-'.join(rng.sample(WORDS, rng.randint(2, 4)))}")
    return [(path, 1.0 / (rank + 1) ** 0.9) for rank, path in enumerate(dict.fromkeys(paths))]


def search_path(rng: random.Random) -> str:
    """A site-search results page."""
    return "/search?q=" + rng.choice(SEARCH_TERMS).replace(" ", "+")


def public_ipv4(rng: random.Random) -> str:
    """A random global unicast IPv4 address (reserved and private ranges are redrawn)."""
    while True:
        address = IPv4Address(rng.randrange(1 << 24, 224 << 24))
        if address.is_global:
            return str(address)
