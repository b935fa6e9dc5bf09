"""The e-mail that carries an invitation or password-reset link, in the reader's language."""

import logging

from jinja2 import Environment

from dashboard.web import i18n
from dashboard.web.config import SendMail
from dashboard.web.i18n import _
from dashboard.web.labels import role_label
from storage.invitations import INVITATION_SECONDS

log = logging.getLogger("teller.dashboard")
# What became of the link's e-mail, as the users page tells the admin.
SENT, FAILED, NO_SMTP = "sent", "failed", "off"


def render_link_mail(
    env: Environment, link: str, email: str, inviter: str, role: str, existing: bool, language: str
) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the mail with a one-time link, in language; the caller's stays active."""
    previous = i18n.current()
    i18n.activate(language)
    try:
        context = {
            "link": link,
            "email": email,
            "inviter": inviter,
            "role": role_label(role),
            "existing": existing,
            "days": INVITATION_SECONDS // 86_400,
        }
        if existing:
            subject = _("Choose a new password for Teller")
        else:
            subject = _("%(inviter)s invited you to Teller", inviter=inviter)
        text = env.get_template("invite_email.txt").render(**context)
        html = env.get_template("invite_email.html").render(**context, subject=subject)
    finally:
        i18n.activate(previous)
    return subject, text, html


def send_link_mail(
    send: SendMail | None,
    env: Environment,
    link: str,
    email: str,
    inviter: str,
    role: str,
    existing: bool,
    language: str,
) -> str:
    """Send the link to email when SMTP is configured: SENT, FAILED (logged; the page still shows it) or NO_SMTP."""
    if send is None:
        return NO_SMTP
    subject, text, html = render_link_mail(env, link, email, inviter, role, existing, language)
    try:
        send(email, subject, text, html)
    except OSError as error:  # smtplib's errors are OSErrors too
        log.warning("the %s e-mail could not be sent: %s", "reset" if existing else "invitation", error)
        return FAILED
    return SENT
