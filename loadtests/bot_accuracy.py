"""How many bots the `bot` drop catches, how many browsers it wrongly drops, and what one user agent costs.

    pip install -e '.[dev,loadtest]'                # device-detector's fixtures, crawler-user-agents, PyYAML
    python -m loadtests.bot_accuracy [--crawlers PATH/crawler-user-agents.json] [--unique 20000] [--show 20]

Corpora: the 1,348 labelled bots of Matomo's device-detector (PyPI device-detector ships its fixtures); every
instance of crawler-user-agents (the npm package's JSON with --crawlers, e.g. from `npm pack crawler-user-agents`,
otherwise the same project's PyPI package); and the browser and mobile-app cases of device-detector's device
fixtures (desktop, smartphone, tablet, TV, console, ... files). The cost is measured on uncached calls of the
classifier for each corpus, on a flood of random unique user agents through the cached entry point (every one a
miss), and on cache hits. A benchmark, not a test: nothing here fails on a number.
"""

import argparse
import json
import random
import statistics
import string
import time
from collections import Counter
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from collector.ingest import bots, useragent

BROWSER_TYPES = ("browser",)
APP_TYPES = ("mobile app",)


def _yaml_loader() -> tuple[Any, Any]:
    """PyYAML's load and its fastest safe loader."""
    import yaml

    return yaml.load, getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _fixtures() -> Path:
    """The folder of device-detector's upstream fixtures."""
    import device_detector

    return Path(device_detector.__file__).parent / "tests" / "fixtures" / "upstream"


def matomo_bots() -> tuple[str, list[str]]:
    """Label and user agents of device-detector's bots.yml."""
    load, loader = _yaml_loader()
    cases = load((_fixtures() / "bots.yml").read_text(encoding="utf-8"), Loader=loader)
    return f"device-detector {metadata.version('device-detector')} bots.yml", [c["user_agent"] for c in cases]


def device_cases() -> tuple[str, dict[str, list[str]]]:
    """Label and user agents of device-detector's device fixtures, by client type."""
    load, loader = _yaml_loader()
    by_type: dict[str, list[str]] = {}
    for path in sorted(_fixtures().glob("*.yml")):
        if path.name == "bots.yml":
            continue
        for case in load(path.read_text(encoding="utf-8"), Loader=loader) or []:
            client = case.get("client") or {}
            by_type.setdefault(client.get("type") or "none", []).append(case["user_agent"])
    return f"device-detector {metadata.version('device-detector')} device fixtures", by_type


def crawler_user_agents(path: Path | None) -> tuple[str, list[str]]:
    """Label and every instance of crawler-user-agents, from a JSON file or the installed PyPI package."""
    if path is not None:
        package = path.parent / "package.json"
        version = json.loads(package.read_text())["version"] if package.exists() else "?"
        label = f"crawler-user-agents {version} ({path})"
    else:
        import crawleruseragents

        path = Path(crawleruseragents.__file__).parent / "crawler-user-agents.json"
        label = f"crawler-user-agents {metadata.version('crawler-user-agents')} (PyPI)"
    entries = json.loads(path.read_text(encoding="utf-8"))
    return label, [text for entry in entries for text in entry.get("instances", [])]


def _prepared(ua: str) -> str:
    """The string is_bot classifies."""
    return ua.strip()[: bots.MAX_UA_LENGTH]


def drop_rate(agents: list[str]) -> tuple[float, Counter[str], list[str]]:
    """Share dropped, drops by rule, and the user agents kept."""
    rules: Counter[str] = Counter()
    kept = []
    for ua in agents:
        rule = bots.bot_rule(_prepared(ua))
        if rule is None:
            kept.append(ua)
        else:
            rules[rule] += 1
    return (len(agents) - len(kept)) / len(agents), rules, kept


def _percentiles(samples_ns: list[int]) -> str:
    """p50, p99 and the maximum in microseconds."""
    ordered = sorted(samples_ns)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    median = statistics.median(ordered)
    return f"p50 {median / 1000:7.1f} us  p99 {p99 / 1000:7.1f} us  max {ordered[-1] / 1000:8.1f} us"


def timed(call: Callable[[str], object], agents: Iterable[str]) -> list[int]:
    """Nanoseconds of one call per user agent."""
    clock = time.thread_time_ns
    samples = []
    for ua in agents:
        started = clock()
        call(ua)
        samples.append(clock() - started)
    return samples


def random_agents(count: int, seed: int, real: list[str]) -> list[str]:
    """Unique user agents: real ones with random versions and tokens, name/version strings, and noise."""
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + " ;/()._-+,:"
    out: set[str] = set()
    while len(out) < count:
        kind = rng.random()
        if kind < 0.5:
            base = rng.choice(real)
            digits = "".join(rng.choices(string.digits, k=6))
            out.add(f"{base} {''.join(rng.choices(string.ascii_letters, k=rng.randint(3, 12)))}/{digits}")
        elif kind < 0.8:
            name = "".join(rng.choices(string.ascii_letters, k=rng.randint(3, 16)))
            out.add(f"{name}/{rng.randint(0, 99)}.{rng.randint(0, 999)} (+{rng.randint(0, 1 << 30)})")
        else:
            out.add("".join(rng.choices(alphabet, k=rng.randint(8, 600))))
    return list(out)


def main() -> None:
    """Print the corpora, the drop rates and the per-UA cost."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--crawlers", type=Path, help="crawler-user-agents.json of the npm package")
    parser.add_argument("--unique", type=int, default=20_000, help="random unique user agents for the cost")
    parser.add_argument("--show", type=int, default=0, help="print this many missed bots and dropped browsers")
    args = parser.parse_args()

    matomo_label, matomo = matomo_bots()
    crawler_label, crawlers = crawler_user_agents(args.crawlers)
    device_label, by_type = device_cases()
    browsers = [ua for kind in BROWSER_TYPES for ua in by_type.get(kind, [])]
    apps = [ua for kind in APP_TYPES for ua in by_type.get(kind, [])]

    print("bot corpora (share dropped, should be high)")
    for label, agents in ((matomo_label, matomo), (crawler_label, crawlers)):
        rate, rules, kept = drop_rate(agents)
        print(f"  {rate:7.2%} of {len(agents):6,}  {label}  by rule: {dict(rules.most_common())}")
        for ua in kept[: args.show]:
            print(f"           kept: {ua[:160]}")
    print("browser corpora (share dropped, should be low)")
    for label, agents in ((f"{device_label}, browsers", browsers), (f"{device_label}, mobile apps", apps)):
        rate, rules, kept = drop_rate(agents)
        print(f"  {rate:7.2%} of {len(agents):6,}  {label}  by rule: {dict(rules.most_common())}")
        kept_set = set(kept)
        dropped = [ua for ua in agents if ua not in kept_set]
        for ua in dropped[: args.show]:
            print(f"        dropped: {ua[:160]}")

    print("cost per user agent")
    for label, agents in (("browsers", browsers), ("Matomo bots", matomo), ("crawler-user-agents", crawlers)):
        unique = list(dict.fromkeys(_prepared(ua) for ua in agents))
        useragent._parse.cache_clear()
        print(f"  uncached, {label:<22} ({len(unique):6,}): {_percentiles(timed(bots.bot_rule, unique))}")
    flood = random_agents(args.unique, 1, browsers)
    # The parser compiles its regexes on first use; a warm-up with other random agents leaves that out.
    for ua in random_agents(args.unique, 2, browsers):
        bots.is_bot(ua)
    bots._is_bot.cache_clear()
    useragent._parse.cache_clear()
    print(f"  is_bot, random unique      ({len(flood):6,}): {_percentiles(timed(bots.is_bot, flood))}")
    hot = flood[:1000]
    for ua in hot:
        bots.is_bot(ua)
    rounds = 50
    started = time.perf_counter()
    for _ in range(rounds):
        for ua in hot:
            bots.is_bot(ua)
    mean = (time.perf_counter() - started) / (rounds * len(hot)) * 1e6
    print(f"  is_bot, cached             ({len(hot):6,}): mean {mean:5.2f} us (a loop, no clock per call)")
    reads = sorted(-(time.thread_time_ns() - time.thread_time_ns()) for _ in range(1000))
    print(f"  per-call times are this thread's CPU time, clock reads included ({reads[500] / 1000:.1f} us)")


if __name__ == "__main__":
    main()
