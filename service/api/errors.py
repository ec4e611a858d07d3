"""The one place where domain errors become HTTP status codes and JSON bodies."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic.json_schema import JsonDict, SkipJsonSchema
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


def _never_null(schema: JsonDict) -> None:
    schema.pop("default", None)  # an absent member is left out of the body, never sent as null


class Problem(BaseModel):
    path: str = Field(description="where: `filing.identifiers`, `security_scan`, `query.limit`, ...")
    message: str
    type: str = Field(description="a stable code for the kind of problem: `missing`, `string_too_long`, ...")


class ErrorBody(BaseModel):
    """The body of every error the service answers; OpenAPI documents it for each error status."""

    error: str = Field(description="a stable code: `invalid_filing`, `forbidden`, `part_too_large`, ...")
    message: str = Field(description="what went wrong and what to do, in words")
    errors: list[Problem] | SkipJsonSchema[None] = Field(
        default=None, description="every problem found, by path (422)", json_schema_extra=_never_null
    )
    part: str | SkipJsonSchema[None] = Field(
        default=None, description="the multipart part refused", json_schema_extra=_never_null
    )

    def response(self, status_code: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
        return JSONResponse(self.model_dump(exclude_none=True), status_code=status_code, headers=headers)


def answers(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error statuses, each documented with the service's error body."""
    return {status: {"description": text, "model": ErrorBody} for status, text in descriptions.items()}


def status_of(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return 400


async def domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    body = ErrorBody(error=error.code, message=error.message)
    if isinstance(error, FilingInvalid):
        body.errors = [Problem(path=e.path, message=e.message, type=e.type) for e in error.errors]
    if isinstance(error, PartRejected):
        body.part = error.part
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, NotAuthenticated) else None
    if isinstance(error, MatchingStarting):
        headers = {"Retry-After": str(error.retry_after_s)}
    return body.response(status_of(error), headers)


async def request_invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        Problem(path=".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), message=e["msg"], type=e["type"])
        for e in error.errors()
    ]
    if any(e.type == "json_invalid" for e in errors):
        # Not JSON at all: a malformed body (400), not a well-formed request with bad values (422).
        message = f"the body is not valid JSON: {error.errors()[0].get('ctx', {}).get('error', 'cannot be parsed')}"
        return ErrorBody(error="malformed_body", message=message).response(400)
    message = f"the request has {len(errors)} problem(s): {', '.join(e.path for e in errors)}"
    await audit_refused(request, InvalidRequest(message))
    return ErrorBody(error="invalid_request", message=message, errors=errors).response(422)


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
    body = ErrorBody(error=phrase.lower().replace(" ", "_").replace("-", "_"), message=message)
    if error.status_code == 400:  # the framework could not parse the body (JSON, multipart)
        if message == "There was an error parsing the body":  # FastAPI's words, whatever the cause
            message = "send well-formed UTF-8 JSON, or multipart/form-data, as documented"
        body = ErrorBody(error="malformed_body", message=f"the body could not be parsed: {message}")
    if (part := getattr(error, "part", None)) is not None:  # service.api.multipart.PartOverLimit
        body.error, body.part = "part_too_large", part
    return body.response(error.status_code, error.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(HTTPException, http_error)
