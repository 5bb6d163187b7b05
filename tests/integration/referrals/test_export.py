"""A citizen's access request: `GET /v1/citizens/{ref}/export` holds everything the referrals
service keeps about them, opened with their key, with a Danish summary; it is audited, it is
for the DPO, guides and admins only, and an erased citizen has nothing left (410)."""

from __future__ import annotations

from datetime import date, timedelta

from shared.danish import da_date
from tests.helpers import token
from tests.integration.referrals.support import ADMIN, AMB, CITIZEN_CONTACT, CONTACT, GUIDE, PROF, running

DPO = token("dpo", "dpo-karin")
NOTE = "Mistede sin mand i foråret; vil gerne strikke med andre."
GIVEN = date.today() - timedelta(days=3)
CONSENT = {"purpose": "Henvisning til et fællesskab", "date": GIVEN.isoformat()}


async def test_the_export_holds_everything_about_the_citizen_and_says_it_in_danish(
    database_url: str, nats_clean: str
) -> None:
    async with running(database_url, nats_clean) as svc:
        ref = await svc.citizen(PROF, consent=CONSENT, area="vestervang", age_band="65-74", languages=["da"])
        referral = await svc.referral(PROF, citizen_ref=ref, note=NOTE, needs_accompaniment=True)
        rid = referral["referral_id"]
        measure = {"moment": "referral", "answers": [2, 3, 1], "consent": True}
        await svc.ok(PROF, "POST", f"/v1/referrals/{rid}/loneliness", 201, json=measure)
        await svc.ok(PROF, "POST", f"/v1/referrals/{rid}/arrange_accompaniment", json={"companion_id": "amb-lars"})
        await svc.ok(AMB, "POST", f"/v1/referrals/{rid}/accompany")
        await svc.ok(CONTACT, "POST", f"/v1/referrals/{rid}/welcome")
        body = {"weeks_after": 4, "still_participating": True}
        await svc.ok(CONTACT, "POST", f"/v1/referrals/{rid}/confirm_participation", json=body)
        track = await svc.referral(PROF, citizen_ref=ref, community_id="spis")
        lasting = await svc.referral(PROF, citizen_ref=ref, community_id="kor")
        bridge = {"from_community_id": "spis", "to_referral_id": lasting["referral_id"]}
        await svc.ok(PROF, "POST", f"/v1/citizens/{ref}/bridge", 201, json=bridge)
        await svc.ok(PROF, "GET", f"/v1/citizens/{ref}/contact")

        for who in (PROF, CONTACT, AMB):
            assert (await svc.call(who, "GET", f"/v1/citizens/{ref}/export")).status_code == 403
        for who in (GUIDE, ADMIN):
            assert (await svc.call(who, "GET", f"/v1/citizens/{ref}/export")).status_code == 200
        held = await svc.ok(DPO, "GET", f"/v1/citizens/{ref}/export", headers={"X-Vejviser-Client": "web"})

        assert held["citizen_ref"] == ref
        record = held["record"]
        assert (record["age_band"], record["area"], record["languages"], record["erased"]) == (
            "65-74",
            "vestervang",
            ["da"],
            False,
        )
        assert record["consent"]["purpose"] == CONSENT["purpose"]
        assert held["contact"] == CITIZEN_CONTACT
        by_id = {r["referral_id"]: r for r in held["referrals"]}
        assert set(by_id) == {rid, track["referral_id"], lasting["referral_id"]}
        first = by_id[rid]
        assert (first["note"], first["status"], first["companion_id"], first["community_name"]) == (
            NOTE,
            "participating",
            "amb-lars",
            "Strikkeklubben i Vestervang",
        )
        assert first["participation"] == {"4": True}
        assert [(s["moment"], s["score"]) for s in first["loneliness"]] == [("referral", 6)]
        assert [t["type"] for t in first["timeline"]] == [
            "ReferralCreated",
            "LonelinessMeasured",
            "AccompanimentArranged",
            "CitizenAccompanied",
            "WelcomeConfirmed",
            "ParticipationConfirmed",
        ]
        assert [(b["from_community_id"], b["from_community_name"], b["to_referral_id"]) for b in held["bridges"]] == [
            ("spis", "Fællesspisning (øvebane)", lasting["referral_id"])
        ]
        reads = [(e["actor_id"], e["what"], e["purpose"], e["client"]) for e in held["audit"]]
        assert ("prof-mette", "contact", "contact_citizen", None) in reads
        assert reads[-1] == ("dpo-karin", "export", "access_request", "web")  # the export lists itself

        summary = held["summary_da"]
        for words in (
            "Oplysninger om dig i Fællesskabsby Ringsted",
            f"Din reference: {ref}.",
            f"Du gav samtykke {da_date(GIVEN)} til: Henvisning til et fællesskab.",
            "Aldersgruppe: 65-74 år.",
            "Område: Vestervang.",
            "Navn: Birthe Testesen; Telefon: +45 87 65 43 21; E-mail: birthe.testesen@example.dk",
            "Henvisninger (3)",
            "1. Til Strikkeklubben i Vestervang",
            "Status: du deltager.",
            f"Note fra den, der henviste dig: {NOTE}",
            "Følgeven: amb-lars.",
            "Spørgsmål om ensomhed ved henvisningen: 6 point",
            "Efter 4 uger deltog du stadig.",
            "Fællesskabet bekræftede, at du blev budt velkommen",
            "fra Fællesspisning (øvebane) videre til henvisningen",
            "prof-mette (fagperson) så dine kontaktoplysninger. Formål: Kontakt til borgeren.",
            "dpo-karin (databeskyttelsesrådgiver) så alle oplysninger (en udskrift som denne). Formål: Indsigt.",
        ):
            assert words in summary, f"{words!r} not in:\n{summary}"
        assert "None" not in summary and "_" not in summary.replace(ref, "").replace(rid, "")

        assert (await svc.call(DPO, "GET", "/v1/citizens/c-nobody/export")).status_code == 404
        await svc.ok(GUIDE, "DELETE", f"/v1/citizens/{ref}")
        gone = await svc.call(DPO, "GET", f"/v1/citizens/{ref}/export")
        assert gone.status_code == 410 and "erased" in gone.json()["error"]["message"]
