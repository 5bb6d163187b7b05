"""The projection consumers: one durable consumer per context stream, all applying events
through `projection.Changes` so that live consumption and a rebuild write the same rows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.analytics import store
from services.analytics.projection import Changes, handled_in
from shared.events import CONTEXTS, Envelope, Event
from shared.inbox import Handler
from shared.runtime import Runtime


def project(session: Session, envelope: Envelope, event: Event) -> None:
    changes = Changes()
    changes.add_envelope(envelope, event)
    store.write(session, changes)


def register(runtime: Runtime) -> list[str]:
    durables = []
    for context in CONTEXTS:
        handlers: dict[type[Event], Handler] = dict.fromkeys(handled_in(context), project)
        durables.append(runtime.consume(context, f"projection-{context}", handlers))
    return durables
