"""A citizen's consent attributes, and the JSON they are sealed as (crypto.py).

Age band, area, target groups, languages and the consent's date and recorder say something
about the person, so they are sealed with the citizen's key like their contact data: after an
erasure no copy of the referrals database, backups included, tells anything of them. Nothing
queries them in SQL; they are opened where they are shown or used (the record, the export,
companion matching).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Sealed text is padded to a multiple of this, so a ciphertext's length does not tell how
# many target groups or languages it holds.
PAD_TO = 256


@dataclass(frozen=True)
class CitizenAttributes:
    """What was recorded with the citizen's consent (stored only with consent)."""

    consent_date: datetime
    consent_recorded_by: str
    age_band: str | None = None
    area: str | None = None
    target_groups: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        data: dict[str, Any] = {
            "consent_date": self.consent_date.isoformat(),
            "consent_recorded_by": self.consent_recorded_by,
            "age_band": self.age_band,
            "area": self.area,
            "target_groups": list(self.target_groups),
            "languages": list(self.languages),
        }
        text = json.dumps(data, ensure_ascii=False).encode()
        return text + b" " * (-len(text) % PAD_TO)  # JSON allows trailing white space

    @classmethod
    def from_json(cls, text: bytes) -> CitizenAttributes:
        data = json.loads(text)
        return cls(
            consent_date=datetime.fromisoformat(data["consent_date"]),
            consent_recorded_by=data["consent_recorded_by"],
            age_band=data.get("age_band"),
            area=data.get("area"),
            target_groups=tuple(data.get("target_groups") or ()),
            languages=tuple(data.get("languages") or ()),
        )
