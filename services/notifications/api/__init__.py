"""HTTP API of the notifications service, one module per resource."""

from services.notifications.api import communities, inbox, nudges, preferences, webhooks

routers = [inbox.router, preferences.router, communities.router, webhooks.router, nudges.router]
