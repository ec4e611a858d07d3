"""The inspector console under /console: server-rendered pages over the JSON API's own domain calls."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from service.api import errors
from service.api.console import admin, auth, pages, routes
from service.domain.errors import DomainError, InvalidRequest, NotAuthenticated


def _in_console(request: Request) -> bool:
    return request.url.path == "/console" or request.url.path.startswith("/console/")


async def _domain_error(request: Request, error: Exception) -> Response:
    """Console pages answer errors as pages: a refused sign-in on the sign-in form, no session by going
    to sign in, anything else as an error page with the domain's status code. The API keeps its JSON."""
    if not _in_console(request):
        return await errors.domain_error(request, error)
    assert isinstance(error, DomainError)
    if request.url.path == "/console/sign-in":
        token = auth.sign_in_token(request)
        page = pages.render(
            request,
            "sign_in.html",
            visitor=None,
            sign_in_token=token,
            problem=error.message,
            status_code=errors.status_of(error),
        )
        auth.set_sign_in_cookie(page, token, secure=request.app.state.settings.console.secure_cookie)
        return page
    if isinstance(error, NotAuthenticated):
        response = routes.see_other("/console/sign-in")
        auth.clear_session_cookie(response)
        return response
    return pages.render(request, "error.html", visitor=None, status_code=errors.status_of(error), message=error.message)


async def _invalid_request(request: Request, error: Exception) -> Response:
    if not _in_console(request):
        return await errors.request_invalid(request, error)
    assert isinstance(error, RequestValidationError)
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors())
    message = f"the form has problems: {problems}"
    await errors.audit_refused(request, InvalidRequest(message))
    return pages.render(request, "error.html", visitor=None, status_code=422, message=message)


def install(app: FastAPI) -> None:
    """Add the console's routes, static files and error pages (after service.api.errors.install)."""
    app.mount("/console/static", StaticFiles(directory=pages.STATIC), name="console-static")
    app.include_router(routes.router)
    app.include_router(admin.router)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
