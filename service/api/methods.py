"""OPTIONS and 405 answers that name every method a path takes.

Starlette answers a method a path does not take with 405 and the `Allow` header of the first route
on that path, so `OPTIONS /v1/keys` said `POST` although `GET /v1/keys` is served too. This
middleware answers OPTIONS itself (204, `Allow` with every method of every route on the path) and
puts the full list on every 405.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator

from fastapi import FastAPI, Request, Response
from starlette.routing import BaseRoute, Match


def _leaves(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes that serve requests, through included routers (FastAPI keeps them as nodes)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _leaves(inner.routes)
        else:
            yield route


def allowed(app: FastAPI, request: Request) -> set[str]:
    """Every method some route serves on the request's path."""
    methods: set[str] = set()
    for route in _leaves(app.router.routes):
        served = getattr(route, "methods", None)
        if served and route.matches(request.scope)[0] is not Match.NONE:
            methods |= set(served)
    return methods


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def name_every_method(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.method == "OPTIONS":
            methods = allowed(app, request)
            if methods:
                return Response(status_code=204, headers={"Allow": ", ".join(sorted(methods | {"OPTIONS"}))})
        response = await call_next(request)
        if response.status_code == 405:
            methods = allowed(app, request)
            if methods:
                response.headers["Allow"] = ", ".join(sorted(methods | {"OPTIONS"}))
        return response
