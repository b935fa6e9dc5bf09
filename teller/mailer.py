"""Sending e-mail through the SMTP server of TELLER_SMTP_* (STARTTLS and login when configured)."""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

SMTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Mail:
    """One message: plain text and HTML alternatives, and an optional one-click unsubscribe link."""

    to: str
    subject: str
    text: str
    html: str
    unsubscribe_url: str = ""


@dataclass(frozen=True)
class SmtpMailer:
    """Delivers mail to one SMTP server."""

    host: str
    port: int = 587
    starttls: bool = True
    user: str = ""
    password: str = ""
    sender: str = ""
    # PEM file of the CA the server's certificate is checked against ("" : the system's CAs).
    ca_file: str = ""

    def message(self, mail: Mail) -> EmailMessage:
        """The MIME message of a mail (multipart/alternative: text, then HTML)."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        if mail.unsubscribe_url:
            message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        return message

    def send(self, mail: Mail) -> None:
        """Deliver one mail; smtplib.SMTPException or OSError when the server refuses or cannot be reached."""
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT) as client:
            if self.starttls:
                client.starttls(context=ssl.create_default_context(cafile=self.ca_file or None))
            if self.user:
                client.login(self.user, self.password)
            client.send_message(self.message(mail))
