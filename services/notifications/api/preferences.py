"""The caller's notification preferences: channels, opt-outs, quiet hours, daily cap."""

from __future__ import annotations

from fastapi import APIRouter

from services.notifications.api.deps import Service
from services.notifications.schemas import PreferencesBody, PreferencesOut
from services.notifications.service import people
from shared.auth import CurrentPrincipal

router = APIRouter(prefix="/v1/preferences", tags=["preferences"])


@router.get("", summary="The caller's notification preferences (defaults until set)")
def get_preferences(principal: CurrentPrincipal, service: Service) -> PreferencesOut:
    prefs = people.preferences(service, principal)
    return PreferencesOut.of(principal.actor_id, prefs, service.settings.sms_enabled)


@router.put("", summary="Replace the caller's notification preferences")
def put_preferences(body: PreferencesBody, principal: CurrentPrincipal, service: Service) -> PreferencesOut:
    quiet = (body.quiet_hours.start, body.quiet_hours.end) if body.quiet_hours else None
    change = people.PreferenceChange(
        body.channels, [str(rule) for rule in body.opted_out], quiet, body.daily_cap, body.paused_until
    )
    prefs = people.set_preferences(service, principal, change)
    return PreferencesOut.of(principal.actor_id, prefs, service.settings.sms_enabled)
