"""The mail a sender builds: a re-sent copy (after a crash mid-send) carries the same Message-ID,
so a mail client shows it once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.mail import Mail, Smtp

SMTP = Smtp("127.0.0.1", 8025, "Vejviser <ingen-svar@vejviser.local>")


def test_the_same_mail_built_twice_has_one_message_id() -> None:
    mail = Mail("kontakt@forening.example.dk", "Der kommer en ny", "Hej", "<p>Hej</p>", message_key="0193a1b2-d1")
    now = datetime.now(UTC)
    first, again = SMTP.build(mail, now), SMTP.build(mail, now + timedelta(minutes=10))
    assert first["Message-ID"] == again["Message-ID"] == "<0193a1b2-d1@vejviser.local>"


def test_different_mails_have_different_message_ids() -> None:
    now = datetime.now(UTC)
    ids = {SMTP.build(Mail("a@b.dk", "s", "t", "<p>t</p>", message_key=key), now)["Message-ID"] for key in ("k1", "k2")}
    assert len(ids) == 2
