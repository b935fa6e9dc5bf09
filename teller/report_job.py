"""The `reports` job: weekly and monthly report e-mails and traffic-spike alerts, each sent by one process.

Every process runs the job; a message goes out from the process that wins its claim
(storage/report_claims.py), so several workers or Teller instances on one store send it once.
"""

import datetime as dt
import hashlib
import logging
import smtplib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from dashboard.email_report import build_report, render_report, render_spike, report_environment, report_period
from dashboard.panels import realtime_visitors
from dashboard.unsubscribe import SECRET_NAME, unsubscribe_url
from dashboard.web import i18n
from storage.dashboard_secrets import dashboard_secret
from storage.report_claims import SETTLE_SECONDS, claim, failures, last_noted_time, note_failure
from storage.report_subscriptions import Subscription, list_subscriptions
from storage.sites import Site
from storage.store import Store
from storage.user_languages import language_of
from teller.mailer import Mail, SmtpMailer
from teller.settings import Settings

log = logging.getLogger("teller.reports")
SPIKE_WINDOW_SECONDS = 3600
# Deliveries of one report tried before giving up (one a run of the job: report_interval apart).
MAX_ATTEMPTS = 5


def address_key(address: str) -> str:
    """A short hash of an address for claim keys (the claims table holds no address)."""
    return hashlib.sha256(address.encode()).hexdigest()[:20]


def mailer_from(settings: Settings) -> SmtpMailer | None:
    """The configured SMTP server, or None when TELLER_SMTP_HOST is empty."""
    if not settings.smtp_host:
        return None
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_starttls,
        settings.smtp_user,
        settings.smtp_password,
        settings.smtp_from or f"teller@{settings.smtp_host}",
        settings.smtp_ca_file,
    )


ATTEMPT_SEPARATOR = "\tattempt "


def attempt_key(key: str, attempt: int) -> str:
    """The claim key of a report's nth delivery attempt (the first keeps the report's own key)."""
    return key if attempt == 1 else f"{key}{ATTEMPT_SEPARATOR}{attempt}"


@dataclass
class Outcome:
    """What one run did."""

    sent: int = 0
    failed: int = 0
    lost_claims: int = 0


class ReportSender:
    """Finds due reports and spikes, claims them and sends the ones this process won."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        sites: Callable[[], Mapping[str, Site]],
        clock: Callable[[], float] = time.time,
        settle: float = SETTLE_SECONDS,
    ) -> None:
        self.store = store
        self.settings = settings
        self.sites = sites
        self.clock = clock
        self.settle = settle
        self.mailer = mailer_from(settings)
        self.env = report_environment()

    def base_url(self) -> str:
        """Where links in e-mails point."""
        return (self.settings.public_url or f"http://{self.settings.host}:{self.settings.port}").rstrip("/")

    def _today(self, site: Site) -> dt.date:
        return dt.datetime.fromtimestamp(self.clock(), ZoneInfo(site.timezone)).date()

    def due(self) -> dict[str, tuple[Subscription, Site, int]]:
        """Claim key → (subscription, site, visitors of the last hour for alerts) of every message due now.

        A report whose delivery failed is due again under the key of its next attempt (up to MAX_ATTEMPTS)."""
        found: dict[str, tuple[Subscription, Site, int]] = {}
        reports: dict[str, tuple[Subscription, Site, int]] = {}
        sites = self.sites()
        hourly: dict[str, int] = {}
        now = self.clock()
        for sub in list_subscriptions(self.store):
            site = sites.get(sub.site)
            if site is None:
                continue
            who = address_key(sub.address)
            if sub.kind in ("weekly", "monthly"):
                period, _ = report_period(sub.kind, self._today(site))
                reports[f"{sub.kind}\t{site.domain}\t{period.first.isoformat()}\t{who}"] = (sub, site, 0)
                continue
            if site.domain not in hourly:
                hourly[site.domain] = realtime_visitors(self.store, site.domain, now, SPIKE_WINDOW_SECONDS)
            if hourly[site.domain] <= sub.threshold:
                continue
            prefix = f"spike\t{site.domain}\t{who}\t"
            last = last_noted_time(self.store, prefix)
            if last is not None and now - last < sub.every_hours * 3600:
                continue
            # Keyed by the previous alert: processes that see the same history compete for the same key.
            found[f"{prefix}{last or 0}"] = (sub, site, hourly[site.domain])
        failed = failures(self.store, reports)
        for key, item in reports.items():
            attempts = failed.get(key, 0)
            if attempts < MAX_ATTEMPTS:
                found[attempt_key(key, attempts + 1)] = item
        return found

    def compose(self, sub: Subscription, site: Site, visitors: int) -> Mail:
        """The e-mail of one due message, in the language the recipient chose as a dashboard user (else English)."""
        i18n.activate(language_of(self.store, sub.address) or i18n.DEFAULT_LANGUAGE)
        secret = dashboard_secret(self.store, SECRET_NAME)
        unsubscribe = unsubscribe_url(self.base_url(), secret, site.domain, sub.kind, sub.address)
        if sub.kind == "spike":
            dashboard = f"{self.base_url()}/sites/{site.domain}?period=day"
            subject, text, html = render_spike(self.env, site.domain, visitors, sub.threshold, dashboard, unsubscribe)
            return Mail(sub.address, subject, text, html, unsubscribe)
        report = build_report(self.store, site.domain, site.timezone, sub.kind, self._today(site))
        query = urlencode({"period": "custom", "from": report.period.first, "to": report.period.last})
        text, html = render_report(self.env, report, f"{self.base_url()}/sites/{site.domain}?{query}", unsubscribe)
        return Mail(sub.address, report.subject, text, html, unsubscribe)

    def run(self) -> Outcome:
        """Send every due message this process wins; a failed report is noted and tried again in a later run
        (claimed again, so still sent once)."""
        outcome = Outcome()
        if self.mailer is None:
            return outcome
        due = self.due()
        won = claim(self.store, due, self.settle, noted_at=self.clock())
        for key in sorted(won):
            sub, site, visitors = due[key]
            try:
                self.mailer.send(self.compose(sub, site, visitors))
                outcome.sent += 1
            except (smtplib.SMTPException, OSError) as error:
                outcome.failed += 1
                if sub.kind != "spike":
                    # Its next attempt is due in the next run; an alert is not repeated late.
                    note_failure(self.store, key.partition(ATTEMPT_SEPARATOR)[0], self.clock())
                log.warning("could not send the %s message of %s: %s", sub.kind, site.domain, error)
        outcome.lost_claims = len(due) - len(won)
        if outcome.sent or outcome.failed:
            log.info("reports: %d sent, %d failed", outcome.sent, outcome.failed)
        return outcome
