"""Referral drafts: the wizard's answers, kept server-side (never in the cookie) under the
session and the person, so every step re-renders from them and the back button loses nothing.

The citizen's contact data, answers to the loneliness questions and the free text written
about them (the note, the reason a full community takes them: `wizard.SEALED_FIELDS`) are
encrypted with Fernet under a key derived (HKDF-SHA256) from `draft_secret`, so a leaked drafts
table without the secret shows no names, phone numbers, e-mail addresses, notes or answers.
A draft lives at most `DRAFT_HOURS`, so it is not part of the citizen's erasure: once sent,
the referrals service seals the note with the citizen's own key.
Drafts are deleted when sent, when consent is refused, and after `DRAFT_HOURS`.
"""

from __future__ import annotations

import base64
import contextlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, LargeBinary, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.web.store import DIGEST, ID, Base
from services.web.wizard import SEALED_FIELDS, Answers
from shared.db import UtcDateTime

DRAFT_HOURS = 24


class Draft(Base):
    __tablename__ = "web_draft"
    draft_id: Mapped[str] = mapped_column(ID, primary_key=True)
    session_hash: Mapped[str] = mapped_column(DIGEST, index=True)
    actor_id: Mapped[str] = mapped_column(ID)
    answers: Mapped[dict[str, object]] = mapped_column(JSON)
    # All of SEALED_FIELDS (the name is from when it held only the contact fields).
    contact_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


@dataclass
class DraftAnswers:
    """A draft as the wizard reads it: its answers with the sealed fields decrypted."""

    draft_id: str
    answers: Answers = field(default_factory=dict)


def draft_cipher(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"vejviser-web-drafts").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class DraftBox:
    """Reads and writes drafts in a session, sealing `SEALED_FIELDS`."""

    def __init__(self, secret: str) -> None:
        self.cipher = draft_cipher(secret)

    def seal(self, answers: Answers) -> tuple[dict[str, object], bytes | None]:
        sealed = {name: answers[name] for name in SEALED_FIELDS if answers.get(name)}
        plain = {name: value for name, value in answers.items() if name not in SEALED_FIELDS}
        return plain, self.cipher.encrypt(json.dumps(sealed).encode()) if sealed else None

    def open(self, row: Draft) -> DraftAnswers:
        answers: Answers = dict(row.answers)
        if row.contact_ciphertext is not None:
            # A changed key loses only the sealed fields: the person types them again.
            with contextlib.suppress(InvalidToken):
                answers.update(json.loads(self.cipher.decrypt(row.contact_ciphertext)))
        return DraftAnswers(row.draft_id, answers)


def find(db: Session, draft_id: str, session_hash: str, actor_id: str) -> Draft | None:
    return db.scalar(
        select(Draft).where(Draft.draft_id == draft_id, Draft.session_hash == session_hash, Draft.actor_id == actor_id)
    )


def remove(db: Session, draft_id: str) -> None:
    db.execute(delete(Draft).where(Draft.draft_id == draft_id))


def remove_stale(db: Session, now: datetime) -> None:
    db.execute(delete(Draft).where(Draft.updated_at < now - timedelta(hours=DRAFT_HOURS)))
