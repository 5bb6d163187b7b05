"""Several mails over one SMTP connection, against a real aiosmtpd server: each mail has its own
outcome, a refusal fails only its own mail, a dropped connection is made again once, and a
server that cannot be reached fails every mail at once (one try, not one per mail)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from shared.mail import Mail, MailFailed, Smtp
from shared.natsserver import free_port

REFUSED = "ukendt@forening.example.dk"


def mails(count: int, *, refused_at: int | None = None) -> list[Mail]:
    return [
        Mail(
            REFUSED if i == refused_at else f"kontakt{i}@forening.example.dk",
            f"Besked {i}",
            "Hej",
            "<p>Hej</p>",
            f"k{i}",
        )
        for i in range(count)
    ]


@dataclass
class Relay:
    """Keeps who sent what over which connection; refuses one address; may drop a connection."""

    received: list[tuple[object, str]] = field(default_factory=list)  # (client's address and port, recipient)
    drop_at: set[int] = field(default_factory=set)  # the DATA commands (counted from 0) it hangs up on
    datas: int = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        count, self.datas = self.datas, self.datas + 1
        if count in self.drop_at:  # hangs up before taking the message
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        self.received.append((session.peer, envelope.rcpt_tos[0]))
        return "250 OK"

    def connections(self) -> int:
        return len({peer for peer, _ in self.received})


@pytest.fixture
def relay() -> Iterator[tuple[Relay, Smtp]]:
    handler, port = Relay(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, Smtp("127.0.0.1", port, "Vejviser <ingen-svar@vejviser.local>", 5.0)
    controller.stop()


def test_many_mails_go_over_one_connection(relay: tuple[Relay, Smtp]) -> None:
    handler, smtp = relay
    outcomes = smtp.send_all(mails(5), datetime.now(UTC))
    assert outcomes == [None] * 5
    assert [to for _, to in handler.received] == [f"kontakt{i}@forening.example.dk" for i in range(5)]
    assert handler.connections() == 1


def test_a_refused_recipient_fails_only_its_own_mail(relay: tuple[Relay, Smtp]) -> None:
    handler, smtp = relay
    outcomes = smtp.send_all(mails(4, refused_at=1), datetime.now(UTC))
    assert outcomes[0] is None and outcomes[2] is None and outcomes[3] is None
    assert isinstance(outcomes[1], MailFailed) and "SMTPRecipientsRefused" in str(outcomes[1])
    assert REFUSED not in str(outcomes[1])  # stored as the delivery's error: no address in it
    assert len(handler.received) == 3 and handler.connections() == 1


def test_a_dropped_connection_is_made_again_for_the_rest(relay: tuple[Relay, Smtp]) -> None:
    handler, smtp = relay
    handler.drop_at = {2}
    outcomes = smtp.send_all(mails(5), datetime.now(UTC))
    assert outcomes == [None] * 5  # the third mail went again, over the new connection
    assert sorted(to for _, to in handler.received) == sorted(f"kontakt{i}@forening.example.dk" for i in range(5))
    assert handler.connections() == 2


def test_a_connection_dropped_twice_for_one_mail_fails_that_mail(relay: tuple[Relay, Smtp]) -> None:
    handler, smtp = relay
    handler.drop_at = {1, 2}  # the second mail, and its one try on a new connection
    outcomes = smtp.send_all(mails(3), datetime.now(UTC))
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], MailFailed)
    assert [to for _, to in handler.received] == ["kontakt0@forening.example.dk", "kontakt2@forening.example.dk"]


def test_an_unreachable_server_fails_every_mail_with_one_try() -> None:
    smtp = Smtp("127.0.0.1", free_port(), "x@vejviser.local", 2.0)  # nothing listens there
    outcomes = smtp.send_all(mails(3), datetime.now(UTC))
    assert all(isinstance(o, MailFailed) and "ConnectionRefusedError" in str(o) for o in outcomes)
    assert len({str(o) for o in outcomes}) == 1


def test_one_mail_still_raises_its_failure(relay: tuple[Relay, Smtp]) -> None:
    handler, smtp = relay
    smtp.send(mails(1)[0], datetime.now(UTC))
    with pytest.raises(MailFailed, match="SMTPRecipientsRefused: 550") as refused:
        smtp.send(mails(1, refused_at=0)[0], datetime.now(UTC))
    assert REFUSED not in str(refused.value)  # the reason is stored with the delivery: no address
    assert len(handler.received) == 1
