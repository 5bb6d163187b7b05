"""Through the referrals service on a real nats-server: register two citizens with attributes,
measure one's loneliness, erase that citizen (`DELETE /v1/citizens/{ref}`), and the stream
holds no message of their attributes any more; the other citizen's messages are untouched,
`CitizenErased` stays and new events flow on (a consumer filtering `vejviser.referrals.>` is
in test_retention.py)."""

from __future__ import annotations

import sqlite3
from typing import Any

import nats
from nats.js.errors import NotFoundError

from shared.bus import stream_name
from tests.helpers import eventually
from tests.integration.referrals.support import GUIDE, PROF, Svc, running

ATTRIBUTES = {"consent": {}, "age_band": "45-54", "area": "vestervang", "target_groups": ["newcomer"]}


async def subjects(nats_url: str) -> list[str]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream_name("referrals"))
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1) if info.state.messages else ():
            try:
                found.append((await js.get_msg(stream_name("referrals"), seq)).subject or "")
            except NotFoundError:
                continue
        return found
    finally:
        await nc.close()


async def measured(svc: Svc, citizen_ref: str) -> str:
    referral = await svc.referral(citizen_ref=citizen_ref)
    body = {"moment": "referral", "answers": [2, 3, 1], "consent": True}
    await svc.ok(PROF, "POST", f"/v1/referrals/{referral['referral_id']}/loneliness", 201, json=body)
    return str(referral["referral_id"])


async def test_erasing_a_citizen_purges_their_attributes_from_the_stream(sqlite_url: str, nats_clean: str) -> None:
    async with running(sqlite_url, nats_clean) as svc:
        anna = await svc.citizen(**ATTRIBUTES)
        bent = await svc.citizen(**ATTRIBUTES)
        await measured(svc, anna)
        await measured(svc, bent)
        for ref in (anna, bent):
            for name in ("CitizenRegistered", "LonelinessMeasured"):
                wanted = f"vejviser.referrals.{name}.{ref}"
                await eventually(lambda w=wanted: _has(subjects(svc.nats_url), w))  # type: ignore[misc]

        await svc.ok(GUIDE, "DELETE", f"/v1/citizens/{anna}")

        async def purged() -> list[str] | None:
            found = await subjects(svc.nats_url)
            return None if any(s.endswith(f".{anna}") for s in found) else found

        left = await eventually(purged)
        assert f"vejviser.referrals.CitizenRegistered.{bent}" in left
        assert f"vejviser.referrals.LonelinessMeasured.{bent}" in left
        assert "vejviser.referrals.CitizenErased" in left
        erased = [e for e in await svc.events() if e.type.endswith("CitizenErased.v1")]
        assert [e.data["citizen_ref"] for e in erased] == [anna]
        assert not [e for e in await svc.events() if e.data.get("citizen_ref") == anna and _attributes(e.data)]

        # New events flow on after the purge.
        carl = await svc.citizen(**ATTRIBUTES)
        await eventually(lambda: _has(subjects(svc.nats_url), f"vejviser.referrals.CitizenRegistered.{carl}"))
        assert (await svc.call(GUIDE, "GET", f"/v1/citizens/{bent}")).status_code == 200


async def _has(found: Any, subject: str, *, prefix: bool = False) -> bool:
    subjects = await found
    if prefix:  # by event name, whatever the subject's citizen token
        return any(s.split(".")[2] == subject for s in subjects)
    return subject in subjects


def _attributes(data: dict[str, Any]) -> bool:
    return bool(data.get("age_band") or data.get("area") or data.get("target_groups") or data.get("score"))


async def test_the_outbox_keeps_no_copy_of_attributes_once_they_are_sent(sqlite_url: str, nats_clean: str) -> None:
    """A sent row is kept a week for operators, but not one that carries a citizen's attributes
    or score: a database backup taken before an erasure must not hold them in the clear."""
    async with running(sqlite_url, nats_clean) as svc:
        anna = await svc.citizen(**ATTRIBUTES)
        await measured(svc, anna)
        for name in ("CitizenRegistered", "LonelinessMeasured", "ReferralCreated"):
            await eventually(lambda n=name: _has(subjects(svc.nats_url), n, prefix=True))  # type: ignore[misc]

        def outbox() -> dict[str, bool]:
            with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
                rows = db.execute("SELECT subject, sent_at IS NOT NULL FROM outbox").fetchall()
            return {subject.split(".")[2]: bool(sent) for subject, sent in rows}

        async def relayed() -> dict[str, bool] | None:
            found = outbox()
            return found if all(found.values()) else None

        kept = await eventually(relayed)
        assert kept.get("ReferralCreated") is True  # an ordinary event stays, marked sent
        assert "CitizenRegistered" not in kept and "LonelinessMeasured" not in kept
