"""HTTP API of the notifications service, one module per resource."""

from services.notifications.api import inbox, nudges, preferences, webhooks

routers = [inbox.router, preferences.router, webhooks.router, nudges.router]
