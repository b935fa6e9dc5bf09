"""The settings the dashboard reads; the application's settings object provides them."""

from collections.abc import Callable
from typing import Protocol


class DashboardSettings(Protocol):
    """What the dashboard needs to know of the deployment (a subset of the TELLER_* settings)."""

    public_url: str
    session_days: int
    search_min_count: int
    retention_events_days: int
    retention_rollup_months: int
    retention_search_months: int
    controller_name: str
    controller_email: str
    privacy_request_days: int


# (to, subject, plain text, HTML): delivers one e-mail or raises OSError (smtplib's errors are OSErrors).
SendMail = Callable[[str, str, str, str], None]
