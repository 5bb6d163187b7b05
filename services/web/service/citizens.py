"""Borgeren: a citizen's record and referrals, contact data read for a stated purpose (the
referrals service audits every read), and erasure."""

from __future__ import annotations

from dataclasses import dataclass

from services.web.domain import WebUser
from services.web.service import Pages
from services.web.service.answers import REFERRALS, Citizen, CitizenContact, Referral


@dataclass(frozen=True)
class CitizenView:
    citizen: Citizen
    referrals: list[Referral]


def citizen(pages: Pages, user: WebUser, citizen_ref: str) -> CitizenView:
    record = pages.referrals.get(user, f"/v1/citizens/{citizen_ref}", Citizen)
    referrals = pages.referrals.get_list(
        user, "/v1/referrals", REFERRALS, params={"citizen": citizen_ref, "limit": 100}
    )
    return CitizenView(record, referrals)


def contact(pages: Pages, user: WebUser, citizen_ref: str, purpose: str) -> CitizenContact:
    return pages.referrals.get(user, f"/v1/citizens/{citizen_ref}/contact", CitizenContact, params={"purpose": purpose})


def erase(pages: Pages, user: WebUser, citizen_ref: str) -> None:
    pages.referrals.call(user, "DELETE", f"/v1/citizens/{citizen_ref}")
