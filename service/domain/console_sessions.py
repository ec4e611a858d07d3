"""Console sessions: an inspector or administrator exchanges an API key for a server-side session.

The browser holds a random token in a cookie; the database holds its hash, the key it was opened
with and a CSRF token its forms must send back. Revoking the key ends its sessions at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from service.db.tables import ApiKey, ConsoleSession, utcnow
from service.domain import audit, participants
from service.domain.access import ADMINS, INSPECTORS
from service.domain.actors import Actor, Principal
from service.domain.errors import Forbidden, NotAuthenticated

CONSOLE_ROLES = (*INSPECTORS, *ADMINS)


@dataclass(frozen=True)
class Opened:
    token: str  # for the browser's cookie; stored only as its hash
    csrf_token: str
    principal: Principal
    expires_at: datetime


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    csrf_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(*, session: Session, key: str, lifetime: timedelta, request_id: str | None) -> Opened:
    """Open a session for an inspector's or administrator's key; filers' keys are refused. Audited."""
    action = "console.sign_in"
    try:
        row = participants.key_row(session, key.strip())
    except NotAuthenticated as error:
        raise audit.refuse(session, error, actor=Actor(None, request_id), action=action) from None
    who = participants.principal(session, row)
    actor = Actor(who, request_id)
    if who.role not in CONSOLE_ROLES:
        refused = Forbidden(
            f"{who.role} keys cannot sign in: the console is for inspectors and administrators "
            "(filers transmit through the API, POST /v1/filings)"
        )
        raise audit.refuse(session, refused, actor=actor, action=action)
    now = utcnow()
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))  # ended sessions
    token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + lifetime
    session.add(
        ConsoleSession(
            token_hash=_hash(token), api_key_id=row.id, csrf_token=csrf_token, created_at=now, expires_at=expires
        )
    )
    audit.record(session, actor=actor, action=action, outcome="ok", detail=f"session until {expires:%Y-%m-%d %H:%M}Z")
    session.commit()
    return Opened(token=token, csrf_token=csrf_token, principal=who, expires_at=expires)


def current(session: Session, token: str | None) -> SignedIn:
    """Who a session token belongs to; NotAuthenticated when it is missing, ended, expired or its key revoked."""
    if not token:
        raise NotAuthenticated("not signed in: sign in with an inspector's or administrator's API key")
    row = session.get(ConsoleSession, _hash(token))
    if row is None:
        raise NotAuthenticated("this console session has ended: sign in again")
    if row.expires_at <= utcnow():
        raise NotAuthenticated("this console session has expired: sign in again")
    key = session.get_one(ApiKey, row.api_key_id)
    if key.revoked_at is not None:
        raise NotAuthenticated("the API key this session was opened with was revoked; ask an administrator")
    return SignedIn(principal=participants.principal(session, key), csrf_token=row.csrf_token)


def sign_out(*, session: Session, token: str, request_id: str | None) -> None:
    """End the session (the token stops working at once). Audited."""
    signed_in = current(session, token)
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _hash(token)))
    audit.record(session, actor=Actor(signed_in.principal, request_id), action="console.sign_out", outcome="ok")
    session.commit()
