"""A real SMTP server for tests (aiosmtpd) that requires a login and keeps every message it receives;
optionally it requires STARTTLS with a self-signed certificate made by `openssl` (self_signed_certificate)."""

import email
import email.policy
import socket
import ssl
import subprocess
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "teller"
PASSWORD = "smtp secret"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) PEM files of a new self-signed certificate for 127.0.0.1, valid for a day."""
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


class Inbox:
    """aiosmtpd handler: stores (envelope recipients, parsed message) and whether the session was encrypted."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.encrypted: list[bool] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
            self.encrypted.append(session.ssl is not None)
        return "250 OK"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    """Accept USER with PASSWORD only."""
    ok = isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
    return AuthResult(success=ok)


class SmtpServer:
    """aiosmtpd on 127.0.0.1 in a thread of the test process; AUTH required, after STARTTLS when a
    certificate is given (else no TLS on loopback)."""

    def __init__(self, certificate: tuple[Path, Path] | None = None) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.certificate = certificate
        tls: dict[str, Any] = {"auth_require_tls": False}
        if certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
            tls = {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
        self.controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticate,
            auth_required=True,
            **tls,
        )

    def settings(self) -> dict[str, Any]:
        """Teller settings that send through this server."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_starttls": self.certificate is not None,
            "smtp_ca_file": str(self.certificate[0]) if self.certificate else "",
            "smtp_user": USER,
            "smtp_password": PASSWORD,
            "smtp_from": "Teller <stats@teller.test>",
        }

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
