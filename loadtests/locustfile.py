"""Locust load test of the ingest path: visitors of several sites as the trackers send them, plus batch senders.

Teller must trust the generator as a proxy so the X-Forwarded-For addresses count (visitors, countries):

    TELLER_TRUSTED_PROXIES=127.0.0.1 TELLER_SITES=example.com,shop.example.com,docs.example.org,app.example.net \\
        teller serve
    locust -f loadtests/locustfile.py --headless -u 200 -r 50 -t 2m --host http://127.0.0.1:8000 \\
        --csv /tmp/teller --csv-full-history
    python -m loadtests.plot /tmp/teller_stats_history.csv -o /tmp/teller.png

One locust process tops out near one core; for throughput numbers use `python -m loadtests.bench`.
LOCUST_THINK_SECONDS (default 0.5) is the mean pause between a visitor's requests.
"""

import os
import random
from pathlib import Path

import orjson
from locust import FastHttpUser, between, task

from loadtests.traffic import Hit, Traffic

THINK = float(os.environ.get("LOCUST_THINK_SECONDS", "0.5"))
# Fixture files of PyPI device-detector: labelled user agents of real devices and bots, the long tail.
DEVICE_DETECTOR_FILES = ("smartphone-1.yml", "smartphone-2.yml", "tablet-1.yml", "desktop.yml", "desktop-1.yml")


def device_detector_corpus() -> tuple[list[str], list[str]]:
    """Browser and bot user agents from device-detector's fixtures, or nothing when it is not installed."""
    try:
        import device_detector
        import yaml
    except ImportError:
        return [], []
    folder = Path(device_detector.__file__).parent / "tests" / "fixtures" / "upstream"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def load(name: str) -> list[dict]:
        path = folder / name
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader) if path.exists() else []

    browsers = [
        case["user_agent"]
        for name in DEVICE_DETECTOR_FILES
        for case in load(name)
        if (case.get("client") or {}).get("type") == "browser"
    ]
    bots = [case["user_agent"] for case in load("bots.yml")]
    return browsers, bots


EXTRA_AGENTS, EXTRA_BOTS = device_detector_corpus()
# One set of pools per locust process (building them takes ~0.1 s); each user walks its own visits.
TRAFFIC = Traffic(seed=random.randrange(1 << 30), extra_agents=EXTRA_AGENTS, extra_bots=EXTRA_BOTS)
BOTS = set(TRAFFIC.bots) | set(EXTRA_BOTS)


def _kind(hit: Hit, bots: set[str]) -> str:
    """Request name in locust's statistics."""
    if hit.user_agent in bots:
        return "bot"
    name = hit.body["n"]
    return name if name in ("pageview", "engagement") else "custom"


class Visitor(FastHttpUser):
    """A browser: one request of a visit per task, visit after visit, with think time between requests."""

    weight = 20
    wait_time = between(0.2 * THINK, 1.8 * THINK)

    def on_start(self) -> None:
        self.hits = TRAFFIC.hits()

    @task
    def send(self) -> None:
        hit = next(self.hits)
        headers = {"Content-Type": "text/plain", "User-Agent": hit.user_agent, "X-Forwarded-For": hit.forwarded_for}
        with self.client.post(
            "/api/event",
            data=hit.encoded(),
            headers=headers,
            name=f"/api/event {_kind(hit, BOTS)}",
            catch_response=True,
        ) as response:
            if response.status_code != 202:
                response.failure(f"status {response.status_code}: {(response.text or '')[:200]}")


class BatchSender(FastHttpUser):
    """A server-side sender: arrays of 50 to 200 events to POST /api/events."""

    weight = 1
    wait_time = between(2 * THINK, 6 * THINK)

    def on_start(self) -> None:
        self.hits = TRAFFIC.hits()

    @task
    def send(self) -> None:
        batch = [next(self.hits) for _ in range(random.randint(50, 200))]
        headers = {
            "Content-Type": "application/json",
            "User-Agent": batch[0].user_agent,
            "X-Forwarded-For": batch[0].forwarded_for,
        }
        body = orjson.dumps([hit.body for hit in batch])
        with self.client.post("/api/events", data=body, headers=headers, catch_response=True) as response:
            if response.status_code != 202:
                response.failure(f"status {response.status_code}: {(response.text or '')[:200]}")
