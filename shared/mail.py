"""Sending one e-mail over SMTP: plain text with an HTML alternative.

The notifications service sends its messages through it, and the web client its login links.
The server is `SMTP_HOST:SMTP_PORT` (the local sink `make run` starts, in development).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


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

    def build(self, mail: Mail, now: datetime) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid(idstring=mail.message_key, domain="vejviser.local")
        for name, value in mail.headers:
            message[name] = value
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        return message

    def send(self, mail: Mail, now: datetime) -> None:
        """Blocking: call it in a thread from async code."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(self.build(mail, now))
        except (OSError, smtplib.SMTPException) as exc:
            raise MailFailed(f"smtp: {type(exc).__name__}: {str(exc)[:200]}") from exc
