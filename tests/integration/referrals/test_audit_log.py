"""The audit log itself: append-only in the database (a trigger refuses UPDATE and DELETE on
SQLite and PostgreSQL), and `GET /v1/audit` as the data protection officer searches it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from services.referrals.audit import AuditEntry, Read, Reader, record
from services.referrals.tables import Base
from shared.clock import FakeClock, local
from shared.db import Database
from shared.principal import Role
from tests.helpers import token
from tests.integration.referrals.support import ADMIN, GUIDE, PROF, running

DPO = token("dpo", "dpo-karin")


def test_the_log_refuses_every_change_and_deletion(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.create_schema(Base.metadata)
        db.create_schema(Base.metadata)  # again, as every start-up does: the trigger is kept
        reader = Reader(actor_id="guide-anne", role=Role.guide, purpose="worklist", client="web")
        with db.transaction() as session:
            written = record(
                session,
                reader,
                [Read("c-1", "list"), Read("c-1", "list"), Read("c-2", "note", "r-1")],
                datetime.now(UTC),
            )
        assert written == 2  # one entry per distinct read
        refused = [
            update(AuditEntry).values(purpose="supervision"),
            update(AuditEntry).where(AuditEntry.citizen_ref == "c-2").values(citizen_ref="c-3"),
            delete(AuditEntry),
            delete(AuditEntry).where(AuditEntry.citizen_ref == "c-1"),
            text("DELETE FROM audit_log"),
        ]
        if database_url.startswith("postgresql"):
            refused.append(text("TRUNCATE audit_log"))
        for statement in refused:
            with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
                session.execute(statement)
        with db.read() as session:
            kept = sorted((e.citizen_ref, e.what, e.purpose, e.client) for e in session.query(AuditEntry))
        assert kept == [("c-1", "list", "worklist", "web"), ("c-2", "note", "worklist", "web")]
    finally:
        db.dispose()


async def test_the_dpo_searches_the_log_by_citizen_actor_purpose_and_period(database_url: str, nats_clean: str) -> None:
    async with running(database_url, nats_clean) as svc:
        start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        clock = FakeClock(start)
        svc.served.runtime.clock = clock
        moments = [start + timedelta(hours=hour) for hour in range(5)]

        a = await svc.citizen(PROF)  # moments[0]: the registration shows the record
        clock.set(moments[1])
        b = await svc.citizen(PROF)
        clock.set(moments[2])
        await svc.ok(PROF, "GET", f"/v1/citizens/{a}/contact", headers={"X-Vejviser-Client": "web"})
        clock.set(moments[3])
        await svc.ok(GUIDE, "GET", f"/v1/citizens/{a}", params={"purpose": "supervision"})
        clock.set(moments[4])

        for who in (GUIDE, PROF):
            refused = await svc.call(who, "GET", "/v1/audit")
            assert refused.status_code == 403 and "dpo" in refused.json()["error"]["message"]

        about_a = await svc.ok(DPO, "GET", "/v1/audit", params={"citizen_ref": a})
        assert about_a["total"] == 3
        assert [(e["actor_id"], e["what"], e["purpose"]) for e in about_a["entries"]] == [  # newest first
            ("guide-anne", "record", "supervision"),
            ("prof-mette", "contact", "contact_citizen"),
            ("prof-mette", "record", "referral_followup"),
        ]
        contact = about_a["entries"][1]
        assert (contact["role"], contact["service"], contact["client"], contact["citizen_ref"]) == (
            "professional",
            "referrals",
            "web",
            a,
        )
        assert contact["purpose_label"] == "Kontakt til borgeren" and contact["referral_id"] is None
        assert datetime.fromisoformat(contact["at"]) == moments[2]

        by_guide = await svc.ok(ADMIN, "GET", "/v1/audit", params={"actor_id": "guide-anne", "citizen_ref": a})
        assert [e["what"] for e in by_guide["entries"]] == ["record"]
        by_purpose = await svc.ok(DPO, "GET", "/v1/audit", params={"purpose": "contact_citizen"})
        assert [(e["citizen_ref"], e["what"]) for e in by_purpose["entries"]] == [(a, "contact")]

        # A period: from inclusive, to exclusive; a time without a zone is Copenhagen's.
        period = {"from": moments[1].isoformat(), "to": moments[3].isoformat()}
        between = await svc.ok(DPO, "GET", "/v1/audit", params=period)
        assert [(e["citizen_ref"], e["what"]) for e in between["entries"]] == [(a, "contact"), (b, "record")]
        naive = {"from": local(moments[2]).replace(tzinfo=None).isoformat(), "to": moments[3].isoformat()}
        assert [e["what"] for e in (await svc.ok(DPO, "GET", "/v1/audit", params=naive))["entries"]] == ["contact"]

        # Paging: the same total on every page.
        before_searches = {"citizen_ref": a, "to": moments[4].isoformat(), "limit": 1, "offset": 1}
        second = await svc.ok(DPO, "GET", "/v1/audit", params=before_searches)
        assert (second["total"], second["limit"], second["offset"]) == (3, 1, 1)
        assert [e["what"] for e in second["entries"]] == ["contact"]

        # The DPO's own searches are reads about the citizens they list (purpose supervision).
        supervised = await svc.ok(ADMIN, "GET", "/v1/audit", params={"actor_id": "dpo-karin"})
        assert {(e["citizen_ref"], e["what"], e["purpose"]) for e in supervised["entries"]} == {
            (a, "list", "supervision"),
            (b, "list", "supervision"),
        }

        for params, field in (
            ({"from": moments[3].isoformat(), "to": moments[1].isoformat()}, "to"),
            ({"purpose": "curiosity"}, "purpose"),
            ({"limit": 0}, "limit"),
            ({"from": "last tuesday"}, "from"),
        ):
            bad = await svc.call(DPO, "GET", "/v1/audit", params=params)
            assert bad.status_code == 422 and bad.json()["error"]["message"].startswith(f"{field}:"), bad.text
        assert "access_request" in (await svc.call(DPO, "GET", "/v1/audit", params={"purpose": "x"})).text

        # The citizen's own audit route reads from the same log (staff only).
        own = await svc.ok(GUIDE, "GET", f"/v1/citizens/{a}/audit")
        assert [(e["actor_id"], e["what"]) for e in own][:3] == [
            ("prof-mette", "record"),
            ("prof-mette", "contact"),
            ("guide-anne", "record"),
        ]
        assert (await svc.call(DPO, "GET", f"/v1/citizens/{a}/audit")).status_code == 403
