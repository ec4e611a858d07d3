"""The one place where domain errors become HTTP status codes and JSON bodies."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from service.domain import audit
from service.domain.actors import Actor
from service.domain.errors import (
    DomainError,
    FilingInvalid,
    Forbidden,
    ImageRejected,
    ImageTooLarge,
    InvalidQuery,
    InvalidRequest,
    KeyProblem,
    MatchingStarting,
    MatchingUnavailable,
    NotAuthenticated,
    NotFound,
    PartRejected,
    PartTooLarge,
    TransmissionConflict,
    WouldLockOut,
)

STATUS: dict[type[DomainError], int] = {
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    TransmissionConflict: 409,
    WouldLockOut: 409,
    ImageTooLarge: 413,
    PartTooLarge: 413,
    FilingInvalid: 422,
    ImageRejected: 422,
    KeyProblem: 422,
    InvalidQuery: 422,
    InvalidRequest: 422,
    MatchingUnavailable: 503,
    PartRejected: 400,
}


def status_of(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 400


async def domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    body: dict[str, object] = {"error": error.code, "message": error.message}
    if isinstance(error, FilingInvalid):
        body["errors"] = [{"path": e.path, "message": e.message, "type": e.type} for e in error.errors]
    if isinstance(error, PartRejected):
        body["part"] = error.part
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, NotAuthenticated) else None
    if isinstance(error, MatchingStarting):
        headers = {"Retry-After": str(error.retry_after_s)}
    return JSONResponse(body, status_code=status_of(error), headers=headers)


async def request_invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"path": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), "message": e["msg"], "type": e["type"]}
        for e in error.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        # Not JSON at all: a malformed body (400), not a well-formed request with bad values (422).
        message = f"the body is not valid JSON: {error.errors()[0].get('ctx', {}).get('error', 'cannot be parsed')}"
        return JSONResponse({"error": "malformed_body", "message": message}, status_code=400)
    message = f"the request has {len(errors)} problem(s): {', '.join(e['path'] for e in errors)}"
    await audit_refused(request, InvalidRequest(message))
    return JSONResponse({"error": "invalid_request", "message": message, "errors": errors}, status_code=422)


async def audit_refused(request: Request, error: InvalidRequest) -> None:
    """Audit a request its schema refused after the caller was known (service.api.deps.remember_caller).

    Only the message is kept: the refused values themselves (an overlong id, a NUL) may not fit the
    audit trail's columns, which is why they were refused.
    """
    actor: Actor | None = getattr(request.state, "actor", None)
    action: str | None = getattr(request.state, "action", None)
    if actor is None or action is None:
        return

    def write() -> None:
        with request.app.state.sessions() as session:
            audit.refuse(session, error, actor=actor, action=action)

    await run_in_threadpool(write)


async def http_error(_request: Request, error: Exception) -> JSONResponse:
    """What the framework refuses itself (a body it cannot parse, an unknown route or method), in our shape."""
    assert isinstance(error, HTTPException)
    phrase = HTTPStatus(error.status_code).phrase
    message = error.detail if isinstance(error.detail, str) and error.detail else phrase
    body = {"error": phrase.lower().replace(" ", "_").replace("-", "_"), "message": message}
    if error.status_code == 400:  # the framework could not parse the body (JSON, multipart)
        if message == "There was an error parsing the body":  # FastAPI's words, whatever the cause
            message = "send well-formed UTF-8 JSON, or multipart/form-data, as documented"
        body = {"error": "malformed_body", "message": f"the body could not be parsed: {message}"}
    if (part := getattr(error, "part", None)) is not None:  # service.api.multipart.PartOverLimit
        body |= {"error": "part_too_large", "part": part}
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(HTTPException, http_error)
