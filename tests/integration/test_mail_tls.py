"""SMTP with STARTTLS, implicit TLS and a login, against a real aiosmtpd server holding a
certificate from a CA made for the test: the mail arrives encrypted and authenticated, and
nothing falls back to plain text when TLS was asked for."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.mail import Mail, MailFailed, Smtp
from shared.natsserver import free_port

USER, PASSWORD = "vejviser", "korrekt hest batteri"
MAIL = Mail(
    to="kontakt@forening.example.dk", subject="Der kommer en ny", text="Hej", html="<p>Hej</p>", message_key="k1"
)


@dataclass
class Certs:
    ca: Path
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    folder = tmp_path_factory.mktemp("tls")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Vejviser test CA"))
        .issuer_name(_name("Vejviser test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # key_cert_sign, crl_sign
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    made = Certs(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    made.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    made.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    made.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return made


@dataclass
class Inbox:
    received: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 OK"

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login.decode() == USER and data.password.decode() == PASSWORD
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)


def _server_context(certs: Certs) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.cert, certs.key)
    return context


@pytest.fixture
def starttls_server(certs: Certs) -> Iterator[tuple[Inbox, int]]:
    """A relay as a municipality runs one on 587: STARTTLS required, then a login required."""
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(certs),
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=inbox.authenticate,
    )
    controller.start()
    yield inbox, port
    controller.stop()


def test_starttls_then_login_delivers(starttls_server: tuple[Inbox, int], certs: Certs) -> None:
    inbox, port = starttls_server
    smtp = Smtp(
        "localhost", port, "Vejviser <ingen-svar@vejviser.local>", 5.0, "starttls", USER, PASSWORD, str(certs.ca)
    )
    smtp.send(MAIL, datetime.now(UTC))
    assert len(inbox.received) == 1 and inbox.logins == [USER]
    assert b"Der kommer en ny" in (inbox.received[0].original_content or b"")


def test_many_mails_take_one_handshake_and_one_login(starttls_server: tuple[Inbox, int], certs: Certs) -> None:
    inbox, port = starttls_server
    smtp = Smtp("localhost", port, "x@vejviser.local", 5.0, "starttls", USER, PASSWORD, str(certs.ca))
    assert smtp.send_all([MAIL, MAIL, MAIL], datetime.now(UTC)) == [None, None, None]
    assert len(inbox.received) == 3 and inbox.logins == [USER]


def test_a_wrong_password_or_no_tls_is_a_failed_send(starttls_server: tuple[Inbox, int], certs: Certs) -> None:
    inbox, port = starttls_server
    wrong = Smtp("localhost", port, "x@vejviser.local", 5.0, "starttls", USER, "forkert", str(certs.ca))
    with pytest.raises(MailFailed, match="SMTPAuthenticationError"):
        wrong.send(MAIL, datetime.now(UTC))
    plain = Smtp("127.0.0.1", port, "x@vejviser.local", 5.0)  # the server insists on STARTTLS
    with pytest.raises(MailFailed):
        plain.send(MAIL, datetime.now(UTC))
    untrusted = Smtp("localhost", port, "x@vejviser.local", 5.0, "starttls", USER, PASSWORD)  # system CAs only
    with pytest.raises(MailFailed, match="SSL"):
        untrusted.send(MAIL, datetime.now(UTC))
    assert inbox.received == []


def test_asked_for_starttls_a_server_without_it_is_never_used_in_the_clear(certs: Certs) -> None:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)  # offers no STARTTLS
    controller.start()
    try:
        smtp = Smtp("localhost", port, "x@vejviser.local", 5.0, "starttls", ca_file=str(certs.ca))
        with pytest.raises(MailFailed, match=r"(?i)starttls"):
            smtp.send(MAIL, datetime.now(UTC))
        assert inbox.received == []
    finally:
        controller.stop()


def test_implicit_tls_delivers(certs: Certs) -> None:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=_server_context(certs))
    controller.start()
    try:
        Smtp("localhost", port, "x@vejviser.local", 5.0, "tls", ca_file=str(certs.ca)).send(MAIL, datetime.now(UTC))
        assert len(inbox.received) == 1
    finally:
        controller.stop()


def test_a_password_is_never_configured_for_plain_text_to_another_host() -> None:
    with pytest.raises(ValueError, match="SMTP_SECURITY"):
        Smtp("smtp.ringsted.dk", 25, "x@vejviser.local", username=USER, password=PASSWORD)
    Smtp("127.0.0.1", 8025, "x@vejviser.local", username=USER, password=PASSWORD)  # the local sink
