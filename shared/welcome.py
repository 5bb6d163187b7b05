"""Signed, expiring one-click welcome links.

The referrals service verifies them (and makes each work once); the notifications service
puts them in the message to the community's welcome contact. Both sign with the same key,
LINK_SIGNING_KEY (the links' own, never the tokens'), so no service calls the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

DEFAULT_VALIDITY = timedelta(days=21)


class InvalidWelcomeToken(ValueError):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_welcome(secret: str, referral_id: str, expires_at: datetime) -> str:
    payload = f"{referral_id}|{int(expires_at.timestamp())}".encode()
    mac = hmac.new(secret.encode(), b"welcome|" + payload, hashlib.sha256).digest()[:18]
    return f"{_b64(payload)}.{_b64(mac)}"


def verify_welcome(secret: str, token: str, now: datetime | None = None) -> str:
    """The referral id the token is for; raises InvalidWelcomeToken when forged or expired."""
    try:
        payload_part, mac_part = token.split(".", 1)
        payload = _unb64(payload_part)
        expected = hmac.new(secret.encode(), b"welcome|" + payload, hashlib.sha256).digest()[:18]
        if not hmac.compare_digest(expected, _unb64(mac_part)):
            raise InvalidWelcomeToken("the welcome link is not valid")
        referral_id, expires = payload.decode().rsplit("|", 1)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidWelcomeToken("the welcome link is not valid") from exc
    if datetime.fromtimestamp(int(expires), UTC) < (now or datetime.now(UTC)):
        raise InvalidWelcomeToken("the welcome link has expired")
    return referral_id


def welcome_url(base_url: str, secret: str, referral_id: str, created_at: datetime) -> str:
    token = sign_welcome(secret, referral_id, created_at + DEFAULT_VALIDITY)
    return f"{base_url.rstrip('/')}/welcome/{token}"
