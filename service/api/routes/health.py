"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from service.db.migrate import is_current
from service.matching.startup import MatcherStartup

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready: `checks` says what is wrong"}})
def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks: dict[str, str] = {}
    try:
        with state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok" if is_current(state.engine) else "schema not at head: run `scanmatch db upgrade`"
    except Exception as error:  # readiness reports any failure rather than raising it
        checks["database"] = f"unreachable: {error.__class__.__name__}: {error}"
    checks["images"] = "ok" if state.images.writable() else f"{state.images.root} is not writable"
    startup: MatcherStartup | None = state.startup
    if startup is not None:  # matching on: ready once the networks are loaded and calibrated
        checks["matching"] = "ok" if startup.ready else startup.phase
        if startup.error is not None:
            checks["matching"] = f"failed to start: {startup.error} (see the log, fix the cause and restart)"
    ready = all(v == "ok" for v in checks.values())
    status = "ready" if ready else "not ready"
    if startup is not None and not ready and all(v == "ok" for k, v in checks.items() if k != "matching"):
        status = startup.phase  # "loading models", "calibrating": alive, warming up
    body: dict[str, object] = {"status": status, "checks": checks}
    if state.matcher is not None and ready:
        # Images still waiting for an embedding (after a restart, while the worker catches up), and how far
        # verdicts run behind intake.
        body["embedding_backlog"] = state.matcher.backlog()
        body["verdict_lag_seconds"] = round(state.matcher.refresher.lag(), 1)
        body["verdict_refresh_queue"] = state.matcher.refresher.depth
        body["model"] = state.matcher.encoder.version
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
