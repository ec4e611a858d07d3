"""Request-scoped dependencies: a database session, and who is calling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from asgi_correlation_id import correlation_id
from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from service.api.errors import ErrorBody, answers
from service.domain import audit, participants
from service.domain.actors import Actor
from service.domain.errors import MatchingStarting, MatchingUnavailable, NotAuthenticated
from service.domain.images import ImageStore
from service.domain.limits import ID_MAX, ID_PATTERN
from service.matching.matcher import Matcher
from service.matching.startup import MatcherStartup
from service.settings import Settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> ImageStore:
    store: ImageStore = request.app.state.images
    return store


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ImageStore, Depends(get_store)]


# Path and query ids the service issues (shipments, filings, keys): refused before any lookup if they could
# not be one, so a NUL or an overlong id never reaches the database (service.domain.limits).
RECORD_ID: dict[str, Any] = {"max_length": ID_MAX, "pattern": ID_PATTERN}


def remember_caller(request: Request, actor: Actor, action: str) -> None:
    """Note who asked for what, so a request its schema then refuses is audited (service.api.errors)."""
    request.state.actor = actor
    request.state.action = action


def caller(action: str) -> Callable[..., Actor]:
    """A dependency authenticating the caller; a refused key is audited under `action`."""

    def dependency(
        request: Request,
        session: SessionDep,
        authorization: Annotated[str | None, Header(description="Bearer <API key>")] = None,
    ) -> Actor:
        request_id = correlation_id.get()
        try:
            principal = participants.authenticate(session, authorization)
        except NotAuthenticated as error:
            raise audit.refuse(session, error, actor=Actor(None, request_id), action=action) from None
        actor = Actor(principal, request_id)
        remember_caller(request, actor, action)
        return actor

    return dependency


# Every /v1 operation takes an API key (`Authorization: Bearer ...`) and values its schema checks: a refused key
# (401) and a refused value (422) are documented once, on each router.
NEEDS_KEY: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "missing, unknown or revoked key",
        "model": ErrorBody,
        "headers": {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    }
}
V1_ERRORS = NEEDS_KEY | answers({422: "a path, query, header or body value the schema refuses, each listed by path"})
# What any request with a body may be answered (the size limit is checked before anything is parsed).
BODY_ERRORS = answers(
    {400: "a body that is not well-formed JSON or multipart/form-data", 413: "the request is over the size limit"}
)


def get_matcher(request: Request) -> Matcher:
    matcher: Matcher | None = getattr(request.app.state, "matcher", None)
    if matcher is not None:
        return matcher
    startup: MatcherStartup | None = getattr(request.app.state, "startup", None)
    if startup is None:
        raise MatchingUnavailable(
            "image matching is switched off on this server (SCANMATCH_MATCHING__ENABLED=false); intake still works"
        )
    if startup.error is not None:
        raise MatchingUnavailable(
            f"image matching failed to start ({startup.error}); intake still works: see the server's log, fix "
            "the cause and restart"
        )
    raise MatchingStarting(
        f"image matching is still starting ({startup.phase}); intake works, and verdicts follow once it is ready: "
        "retry in a minute"
    )


MatcherDep = Annotated[Matcher, Depends(get_matcher)]
