"""The console's administration pages: API keys (issue, list, revoke) and a shipment's audit trail, over the
domain calls behind /v1/keys and /v1/audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from service.api.console import auth, pages
from service.api.console.auth import Visitor
from service.api.console.routes import see_other
from service.api.deps import SessionDep
from service.domain import participants, reads
from service.domain.actors import ROLES
from service.domain.limits import ID_MAX, NO_CONTROL
from service.domain.participants import IssuedKey

router = APIRouter(prefix="/console/admin", include_in_schema=False)
AUDIT_ROWS = 500


@router.get("")
def home(request: Request, visitor: Annotated[Visitor, Depends(auth.visitor("console.home"))]) -> HTMLResponse:
    return pages.render(request, "admin.html", visitor=visitor)


def _keys_page(
    request: Request, session: SessionDep, visitor: Visitor, *, issued: IssuedKey | None, revoked: str
) -> HTMLResponse:
    listed = participants.list_for(session=session, actor=visitor.actor)
    return pages.render(
        request, "keys.html", visitor=visitor, keys=listed[::-1], roles=ROLES, issued=issued, revoked=revoked
    )


@router.get("/keys")
def keys(
    request: Request,
    session: SessionDep,
    visitor: Annotated[Visitor, Depends(auth.visitor("key.list"))],
    revoked: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    return _keys_page(request, session, visitor, issued=None, revoked=revoked)


@router.post("/keys")
def issue(
    request: Request,
    session: SessionDep,
    visitor: Annotated[Visitor, Depends(auth.visitor("key.create"))],
    role: Annotated[str, Form(max_length=20)],
    name: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Issue a key and show it on this one response only (pages are never cached); it is stored as a hash."""
    auth.require_csrf(session, visitor, csrf_token, action="key.create")
    issued = participants.issue_for(session=session, actor=visitor.actor, role=role, name=name)
    return _keys_page(request, session, visitor, issued=issued, revoked="")


@router.post("/keys/{key_id}/revoke")
def revoke(
    session: SessionDep,
    visitor: Annotated[Visitor, Depends(auth.visitor("key.revoke"))],
    key_id: Annotated[str, Path(pattern=r"^key_[0-9a-f]{1,40}$")],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    auth.require_csrf(session, visitor, csrf_token, action="key.revoke")
    participants.revoke_for(session=session, actor=visitor.actor, key_id=key_id)
    return see_other(f"/console/admin/keys?revoked={key_id}")


@router.get("/audit")
def audit_trail(
    request: Request,
    session: SessionDep,
    visitor: Annotated[Visitor, Depends(auth.visitor("audit.read"))],
    shipment_id: Annotated[str, Query(max_length=ID_MAX, pattern=NO_CONTROL)] = "",
) -> HTMLResponse:
    """A shipment's audit trail (under every id merged into it), newest first; without an id, the latest events."""
    shipment_id = shipment_id.strip()
    records = reads.audit_trail(session=session, actor=visitor.actor, shipment_id=shipment_id or None, limit=AUDIT_ROWS)
    return pages.render(
        request, "audit.html", visitor=visitor, shipment_id=shipment_id, records=records, limit=AUDIT_ROWS
    )
