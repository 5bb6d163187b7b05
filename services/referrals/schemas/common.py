"""What the referrals API's bodies share: the input base (unknown fields refused, text
stripped), e-mail shape and the profile's vocabulary in the schema."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from shared.events.envelope import MAX_ID_LENGTH
from shared.profile import profile

# A plain shape check: deliverability is the mail server's business, not a dependency's.
Email = Annotated[str, Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


def codes(name: str, codes: tuple[str, ...]) -> JsonDict:
    return {
        "description": f"A {name} code of the municipality profile (a Danish label is accepted too)",
        "enum": list(codes),
    }


# An id a body names (a citizen, a community, a referral): never empty, never longer than the
# event contract carries, so a bad one is a 422 here and not a failed event further in.
RefId = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]

# Checked against the municipality profile in the service (a code or a Danish label; stored as the code).
AreaField = Field(default=None, max_length=200, json_schema_extra=codes("area", profile().area.codes))


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
