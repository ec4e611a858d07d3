"""Who is using the console: the session cookie, the signed-in actor, and the forms' CSRF tokens."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from asgi_correlation_id import correlation_id
from fastapi import Request, Response
from sqlalchemy.orm import Session

from service.api.deps import SessionDep, remember_caller
from service.domain import audit, console_sessions
from service.domain.actors import Actor
from service.domain.errors import Forbidden, NotAuthenticated

SESSION_COOKIE = "scanmatch_console"
# The sign-in form has no session yet: its CSRF token is a cookie the form must repeat (double submit).
SIGN_IN_COOKIE = "scanmatch_sign_in"


@dataclass(frozen=True)
class Visitor:
    """A signed-in inspector or administrator, and the CSRF token their session's forms carry."""

    actor: Actor
    csrf_token: str
    session_token: str


def visitor(action: str) -> Callable[..., Visitor]:
    """A dependency: the session's actor; a page asked for without a live session is audited under `action`."""

    def dependency(request: Request, session: SessionDep) -> Visitor:
        token = request.cookies.get(SESSION_COOKIE)
        try:
            signed_in = console_sessions.current(session, token)
        except NotAuthenticated as error:
            raise audit.refuse(session, error, actor=Actor(None, correlation_id.get()), action=action) from None
        actor = Actor(signed_in.principal, correlation_id.get())
        remember_caller(request, actor, action)
        return Visitor(actor, signed_in.csrf_token, token or "")

    return dependency


def require_csrf(session: Session, visitor: Visitor, sent: str, *, action: str, **ids: str | None) -> None:
    """Refuse (audited) a form post whose CSRF token is not its session's."""
    if not secrets.compare_digest(sent.encode(), visitor.csrf_token.encode()):
        raise audit.refuse(
            session,
            Forbidden("the form's CSRF token is missing or stale: reload the page and send the form again"),
            actor=visitor.actor,
            action=action,
            **ids,
        )


def require_sign_in_csrf(session: Session, request: Request, sent: str) -> None:
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise audit.refuse(
            session,
            Forbidden("the sign-in form is stale (its CSRF token does not match): reload the page and sign in again"),
            actor=Actor(None, correlation_id.get()),
            action="console.sign_in",
        )


def set_session_cookie(response: Response, token: str, expires_at: datetime, *, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        expires=expires_at,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/console")


def sign_in_token(request: Request) -> str:
    """The sign-in form's CSRF token: the browser's own if it has one, else a new one."""
    return request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)


def set_sign_in_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(SIGN_IN_COOKIE, token, path="/console", httponly=True, samesite="strict", secure=secure)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/console", httponly=True, samesite="strict")
