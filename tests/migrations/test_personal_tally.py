"""notifications_0004: the daily cap's tally starts from the e-mails and SMS already decided
today, so the cap holds on the day of the upgrade too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from services.notifications import store
from services.notifications.store.work import DELIVERY, NUDGE, TALLY
from shared.clock import local
from shared.db import Database
from shared.migrations import SCHEMAS, upgrade


def _nudge(nudge_id: str, recipient: str, at: datetime) -> dict[str, object]:
    return {
        "id": nudge_id,
        "dedup_key": nudge_id,
        "rule": "welcome_followup",
        "subject_id": nudge_id,
        "recipient_id": recipient,
        "referral_id": None,
        "context": "{}",
        "status": "pending",
        "created_at": at,
    }


def _delivery(delivery_id: str, nudge_id: str, channel: str, at: datetime) -> dict[str, object]:
    return {
        "id": delivery_id,
        "nudge_id": nudge_id,
        "channel": channel,
        "address": "someone@example.dk",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
    }


def test_the_tally_starts_from_todays_personal_deliveries(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db, SCHEMAS["notifications"], "notifications_0003")
        now = datetime.now(UTC)
        earlier = now - timedelta(days=2)
        with db.transaction() as session:
            session.execute(
                insert(NUDGE),
                [_nudge("n-1", "prof-a", now), _nudge("n-2", "prof-a", earlier), _nudge("n-3", "prof-b", now)],
            )
            session.execute(
                insert(DELIVERY),
                [
                    _delivery("d-1", "n-1", "email", now),
                    _delivery("d-2", "n-1", "webhook", now),  # not personal: not capped
                    _delivery("d-3", "n-2", "email", earlier),  # another day
                    _delivery("d-4", "n-3", "sms", now),
                    _delivery("d-5", "n-3", "email", now),
                ],
            )
        upgrade(db, SCHEMAS["notifications"])
        with db.transaction() as session:
            rows = session.execute(select(TALLY.c.day, TALLY.c.recipient_id, TALLY.c.deliveries)).all()
            today = local(now).date()
            assert sorted(tuple(row) for row in rows) == [(today, "prof-a", 1), (today, "prof-b", 2)]
            assert store.personal_tally(session, ["prof-a", "prof-b", "prof-c"], today) == {"prof-a": 1, "prof-b": 2}
    finally:
        db.dispose()


def test_a_tally_adds_up_and_forgets_the_days_before(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db, SCHEMAS["notifications"])
        today = local(datetime.now(UTC)).date()
        yesterday = today - timedelta(days=1)
        with db.transaction() as session:
            store.add_to_tally(session, yesterday, {"prof-a": 4})
            store.add_to_tally(session, today, {"prof-b": 1, "prof-a": 2, "prof-c": 0})
        with db.transaction() as session:
            store.add_to_tally(session, today, {"prof-a": 1})
            assert store.personal_tally(session, ["prof-a", "prof-b", "prof-c"], today) == {"prof-a": 3, "prof-b": 1}
            assert store.personal_tally(session, ["prof-a"], yesterday) == {"prof-a": 4}
            store.forget_tally_before(session, today)
            assert store.personal_tally(session, ["prof-a"], yesterday) == {}
            assert store.personal_tally(session, ["prof-a"], today) == {"prof-a": 3}
    finally:
        db.dispose()
