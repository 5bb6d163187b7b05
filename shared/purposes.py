"""Why a person reads citizen-linked data: the purposes the audit log records.

One list for the whole system: the referrals service writes these codes into its audit log,
`GET /v1/audit` filters by them, and the record of processing activities (docs/privacy/) is
generated from them, so the documents name exactly the purposes the code can record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PurposeCode = Literal[
    "referral_followup",
    "worklist",
    "reception",
    "accompaniment",
    "contact_citizen",
    "access_request",
    "supervision",
    "erasure",
]


@dataclass(frozen=True)
class Purpose:
    code: PurposeCode
    label_da: str
    description: str


PURPOSES: dict[PurposeCode, Purpose] = {
    p.code: p
    for p in (
        Purpose("referral_followup", "Opfølgning på henvisning", "The referrer or a guide follows up one referral."),
        Purpose("worklist", "Arbejdsliste", "A daily list of the referrals a person works on."),
        Purpose("reception", "Modtagelse", "The community receives the citizen it was asked to welcome."),
        Purpose("accompaniment", "Følgeskab", "A volunteer accompanies the citizen to the first visit."),
        Purpose("contact_citizen", "Kontakt til borgeren", "Contact data opened to call or write to the citizen."),
        Purpose("access_request", "Indsigt", "The citizen's own access request (GDPR art. 15)."),
        Purpose("supervision", "Tilsyn", "The data protection officer reviews who read what."),
        Purpose("erasure", "Sletning", "Erasure on request or by the retention job."),
    )
}


def label_da(code: str) -> str:
    """The purpose's Danish name; an unknown code (from an older release's log) as it is."""
    known = PURPOSES.get(code)  # type: ignore[call-overload]
    return known.label_da if known else code
