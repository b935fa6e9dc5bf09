"""Delivery of report e-mails: STARTTLS against a real SMTP server with a self-signed certificate, and a
report whose delivery failed (server down) is sent in a later run of the job, exactly once."""

import datetime as dt
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from harness import Harness
from smtp_server import SmtpServer, self_signed_certificate
from test_reports import MONDAY, SITE, known_events

from storage.report_subscriptions import add_subscription
from storage.store import Store
from teller.mailer import Mail, SmtpMailer
from teller.report_job import MAX_ATTEMPTS

MAIL = Mail("editor@example.com", "Hello", "plain text", "<p>html</p>")


def _mailer(server: SmtpServer, **changes: object) -> SmtpMailer:
    settings = server.settings()
    fields = {
        "host": settings["smtp_host"],
        "port": settings["smtp_port"],
        "starttls": settings["smtp_starttls"],
        "user": settings["smtp_user"],
        "password": settings["smtp_password"],
        "sender": settings["smtp_from"],
        "ca_file": settings["smtp_ca_file"],
    }
    return SmtpMailer(**{**fields, **changes})


def test_starttls_with_a_self_signed_certificate(tmp_path: Path) -> None:
    certificate = self_signed_certificate(tmp_path)
    with SmtpServer(certificate) as server:
        _mailer(server).send(MAIL)
        assert [to for to, _ in server.inbox.messages] == [["editor@example.com"]]
        assert server.inbox.encrypted == [True]
        # The certificate is checked: without its CA the handshake fails and nothing (no password) is sent.
        with pytest.raises(ssl.SSLCertVerificationError):
            _mailer(server, ca_file="").send(MAIL)
        # A server that requires STARTTLS refuses a plain session.
        with pytest.raises(smtplib.SMTPException):
            _mailer(server, starttls=False).send(MAIL)
        assert len(server.inbox.messages) == 1


@contextmanager
def _started(store: Store, tmp_path: Path, server: SmtpServer) -> Iterator[Harness]:
    """A started harness that mails through server, holding the report tests' known events."""
    harness = Harness(store, tmp_path, **server.settings())
    harness.start()
    try:
        known_events(harness)
        yield harness
    finally:
        harness.stop()


def test_a_report_job_sends_over_starttls(store: Store, tmp_path: Path) -> None:
    with SmtpServer(self_signed_certificate(tmp_path)) as server, _started(store, tmp_path, server) as harness:
        harness.now = MONDAY
        harness.close_visits()
        add_subscription(store, SITE, "weekly", "weekly@example.com")
        assert harness.teller.jobs.run("reports").sent == 1
        assert server.inbox.encrypted == [True]
        [(to, message)] = server.inbox.messages
        assert to == ["weekly@example.com"] and message["Subject"].startswith(f"{SITE}: weekly report")


def test_a_failed_report_is_sent_later_exactly_once(store: Store, tmp_path: Path) -> None:
    server = SmtpServer()  # not started: the port refuses connections
    with _started(store, tmp_path, server) as harness:
        harness.now = MONDAY
        harness.close_visits()
        add_subscription(store, SITE, "weekly", "weekly@example.com")
        add_subscription(store, SITE, "monthly", "monthly@example.com")
        down = harness.teller.jobs.run("reports")
        assert (down.sent, down.failed) == (0, 2)
        # Still down an hour later: a second attempt, failed too.
        harness.now = MONDAY + 3600
        assert harness.teller.jobs.run("reports").failed == 2
        with server:
            harness.now = MONDAY + 7200
            back = harness.teller.jobs.run("reports")
            assert (back.sent, back.failed) == (2, 0)
            harness.now = MONDAY + 10_800
            assert harness.teller.jobs.run("reports").sent == 0
            received = sorted(to[0] for to, _ in server.inbox.messages)
            assert received == ["monthly@example.com", "weekly@example.com"]
            weekly = next(m for to, m in server.inbox.messages if to == ["weekly@example.com"])
            assert "Week 47, 2026" in weekly["Subject"]


def test_a_report_is_given_up_after_the_last_attempt(store: Store, tmp_path: Path) -> None:
    server = SmtpServer()
    with _started(store, tmp_path, server) as harness:
        add_subscription(store, SITE, "weekly", "weekly@example.com")
        for attempt in range(MAX_ATTEMPTS):
            harness.now = MONDAY + 3600 * attempt
            assert harness.teller.jobs.run("reports").failed == 1
        with server:
            harness.now = MONDAY + 3600 * MAX_ATTEMPTS
            assert harness.teller.jobs.run("reports").sent == 0
            assert server.inbox.messages == []
            # The next week's report is a new message.
            harness.now = MONDAY + dt.timedelta(days=7).total_seconds()
            assert harness.teller.jobs.run("reports").sent == 1
