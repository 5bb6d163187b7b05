"""The web's own routes (login, logout, the front door, the token issuer's); the pages are in
`api.pages`."""

from __future__ import annotations

from fastapi import APIRouter

from services.web.api import login, magic_login, oauth

ROUTERS: list[APIRouter] = [login.router, magic_login.router, oauth.router]
