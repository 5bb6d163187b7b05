"""Sending e-mail over SMTP, one or many over a connection: plain text with an HTML alternative.

The notifications service sends its messages through it, and the web client its login links.
The server is `SMTP_HOST:SMTP_PORT` (the local sink `make run` starts, in development). A
municipality's relay usually wants STARTTLS on 587 (`SMTP_SECURITY=starttls`) or implicit TLS on
465 (`tls`), and a login (`SMTP_USERNAME`/`SMTP_PASSWORD`). Asked for TLS, the sender never falls
back to plain text: a server that does not offer STARTTLS, or whose certificate does not verify,
is a failed send.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

SmtpSecurity = Literal["none", "starttls", "tls"]


class MailFailed(Exception):
    """The server did not take the message; the reason is safe to store (no personal data)."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    message_key: str  # a stable Message-ID per message lets a mail client drop a re-sent copy
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    sender: str
    timeout: float = 10.0
    security: SmtpSecurity = "none"
    username: str = ""
    password: str = ""
    ca_file: str = ""  # a private CA's certificate (PEM); the system's CAs when empty

    def __post_init__(self) -> None:
        if self.username and self.security == "none" and not _loopback(self.host):
            raise ValueError(
                f"SMTP_USERNAME is set for {self.host}, but SMTP_SECURITY is 'none': "
                "set it to 'starttls' or 'tls', so the password is not sent in the clear"
            )

    def build(self, mail: Mail, now: datetime) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(now)
        # Built from the key alone (make_msgid adds the time and a random number): a copy sent
        # again after a crash mid-send must carry the same id for the client to drop it.
        message["Message-ID"] = f"<{mail.message_key}@vejviser.local>"
        for name, value in mail.headers:
            message[name] = value
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        return message

    def send(self, mail: Mail, now: datetime) -> None:
        """Blocking: call it in a thread from async code."""
        (failed,) = self.send_all([mail], now)
        if failed is not None:
            raise failed

    def send_all(self, mails: Sequence[Mail], now: datetime) -> list[MailFailed | None]:
        """Send `mails` in order over one connection (blocking); each mail's failure, or None.

        One connection for many mails: a municipality's relay wants STARTTLS and a login, a
        handshake and a login per mail cost more than the mail, and relays limit how many
        connections a sender opens. A mail the server refuses (a recipient, its content) fails
        alone and the connection goes on (smtplib resets the transaction). A connection that
        drops (or a 421: the server is closing it) is made again once for the mail it was
        sending; a connection that cannot be made fails every mail left with that reason, with
        one try, not one per mail.
        """
        outcomes: list[MailFailed | None] = []
        smtp: smtplib.SMTP | None = None
        try:
            for index, mail in enumerate(mails):
                try:
                    message = self.build(mail, now)
                except (ValueError, TypeError) as exc:  # a header the e-mail library will not write
                    outcomes.append(MailFailed(f"message: {type(exc).__name__}"))
                    continue
                for retry in (False, True):
                    try:
                        if smtp is None:
                            smtp = self._session()
                    except (OSError, smtplib.SMTPException) as exc:
                        failed = _failed(exc)
                        return outcomes + [failed] * (len(mails) - index)
                    try:
                        smtp.send_message(message)
                    except (OSError, smtplib.SMTPException) as exc:
                        if _dropped(exc):
                            smtp.close()
                            smtp = None
                            if not retry:
                                continue
                        outcomes.append(_failed(exc))
                    else:
                        outcomes.append(None)
                    break
            return outcomes
        finally:
            if smtp is not None:
                _quit(smtp)

    def _session(self) -> smtplib.SMTP:
        """A connection that is encrypted as asked and logged in, or an exception."""
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._tls_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=self._tls_context())  # SMTPNotSupportedError when not offered
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file or None)


def _failed(exc: BaseException) -> MailFailed:
    """The reason as a delivery may store it: a refused recipient's reply is given by its codes,
    because smtplib's text of it names the address."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return MailFailed(f"smtp: SMTPRecipientsRefused: {', '.join(map(str, codes))}")
    return MailFailed(f"smtp: {type(exc).__name__}: {str(exc)[:200]}")


def _dropped(exc: BaseException) -> bool:
    """The connection is gone, or the server said it is closing it (421)."""
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 421


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):  # already gone: nothing was left to say
        smtp.close()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
