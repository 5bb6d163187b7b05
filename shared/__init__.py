"""Plumbing common to every Vejviser service: the event contract, the bus, outbox/inbox,
database, settings, auth and the service skeleton. Nothing domain-specific lives here."""
