"""The FastAPI application: routes, error mapping, middleware, and state built in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request, Response

from service.api import console, docs, errors, headers, methods, openapi
from service.api.errors import ErrorBody
from service.api.routes import audit, filings, health, images, keys, shipments
from service.api.routes import matching as matching_routes
from service.db.engine import make_engine, make_session_factory
from service.db.migrate import upgrade
from service.domain import data_lock
from service.domain.images import ImageStore
from service.matching import matcher as matching
from service.matching.matcher import Matcher, Networks
from service.matching.startup import MatcherStartup
from service.observability import Metrics, configure_logging, observe_request
from service.settings import Settings, get_settings

log = structlog.get_logger("scanmatch")


def create_app(settings: Settings | None = None, *, networks: Networks | None = None) -> FastAPI:
    """The service; `networks` lets several apps (tests) share networks loaded once."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with data_lock.serving(settings.data_dir):  # no `scanmatch purge` while we hold the indexes
            _open(app, settings, networks)
            yield
            if app.state.startup is not None:
                app.state.startup.close()
            app.state.engine.dispose()

    app = FastAPI(
        title="scanmatch",
        version="0.1.0",
        summary="Does the parcel's x-ray show what the listing sells?",
        lifespan=lifespan,
        docs_url=None,  # service.api.docs serves /docs from local assets
        redoc_url=None,
    )
    app.state.metrics = Metrics()
    errors.install(app)
    limit = 2 * settings.images.max_bytes + 1024 * 1024

    @app.middleware("http")
    async def refuse_oversized(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit:
            message = f"the request is {int(length):,} bytes, over the limit of {limit:,} bytes"
            return ErrorBody(error="request_too_large", message=message).response(413)
        return await call_next(request)

    methods.install(app)  # inside the security headers: an OPTIONS answer carries them too
    app.middleware("http")(headers.secure_headers)
    app.middleware("http")(observe_request)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    for module in (filings, shipments, matching_routes, images, audit, keys, health):
        app.include_router(module.router)
    console.install(app)
    docs.install(app)
    openapi.install(app)
    return app


def _open(app: FastAPI, settings: Settings, networks: Networks | None) -> None:
    """The database (migrated), the image store, and matching, started on a thread unless told otherwise."""
    url = settings.resolved_database_url
    engine = make_engine(url)
    if settings.auto_migrate:
        upgrade(url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)
    app.state.images = ImageStore(settings.image_dir)
    app.state.images.writable()
    app.state.matcher = None  # set once matching has started (service.matching.startup)
    app.state.startup = None
    if settings.matching.enabled:
        app.state.startup = MatcherStartup(
            lambda phase: matching.start(
                settings, sessions=app.state.sessions, store=app.state.images, networks=networks, phase=phase
            ),
            on_ready=lambda matcher: _serve_matching(app, matcher),
        )
        app.state.startup.run(background=settings.matching.start_in_background)
    log.info("started", database=engine.url.render_as_string(hide_password=True), data_dir=str(settings.data_dir))


def _serve_matching(app: FastAPI, matcher: Matcher) -> None:
    """Matching has started: routes may use it, and the metrics read its backlog and lag."""
    refresher = matcher.refresher
    app.state.metrics.watch(backlog=matcher.backlog, lag=refresher.lag, queued=lambda: refresher.depth)
    app.state.matcher = matcher
