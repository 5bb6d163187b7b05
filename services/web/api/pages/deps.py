"""What the pages share: the `Pages` use-case object, the draft owner, and the translation of
a backing service's refusal into the web's own 403, 404 and 503 pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from services.web.api.deps import LoggedIn, PageForbidden, current_session
from services.web.service import Pages
from services.web.service.backends import BackendError
from services.web.service.referral_wizard import Owner
from shared.responses import answers


def get_pages(request: Request) -> Pages:
    """The app's `Pages`: made once by the composition root (main.build), which also closes
    its backend clients at shutdown."""
    pages: Pages = request.app.state.pages
    return pages


@answers(400, 403, 404, 503)
def backend_refusals() -> Iterator[None]:
    """A backing service's 403/404 is ours too; when it does not answer, the 503 page."""
    try:
        yield
    except BackendError as error:
        if error.forbidden:
            raise PageForbidden() from error
        if error.not_found:
            raise HTTPException(404) from error
        raise HTTPException(503 if error.status >= 500 else 400) from error


def draft_owner(request: Request, user: LoggedIn) -> Owner:
    session = current_session(request)
    if session is None:  # LoggedIn has resolved it already
        raise PageForbidden()
    return Owner(session.id_hash, user)


PagesDep = Annotated[Pages, Depends(get_pages)]
DraftOwner = Annotated[Owner, Depends(draft_owner)]
GUARDED = [Depends(backend_refusals)]
