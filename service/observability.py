"""Structured logs with the request id on every line, and Prometheus metrics."""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Awaitable, Callable

import structlog
from asgi_correlation_id import correlation_id
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.requests import Request
from starlette.responses import Response
from structlog.types import EventDict, WrappedLogger


def _request_id(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    request_id = correlation_id.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


# What must never reach a log line, wherever it comes from (a path a caller typed a key or an email into, a
# library's message, a database error's traceback): replaced at the last step before rendering.
REDACTIONS = (
    (re.compile(r"smk_[A-Za-z0-9_\-]{4,}"), "smk_[redacted]"),  # API keys (service.domain.participants.KEY_PREFIX)
    (re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"), r"\1 [redacted]"),
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+"), "[email redacted]"),
    # PostgreSQL's error details quote the values refused ("Key (name, role)=(Pat Doe, carrier) already exists").
    (re.compile(r"DETAIL:[^\n]*"), "DETAIL: [redacted]"),
    (re.compile(r"\[parameters: [^\n]*"), "[parameters: redacted]"),
)


def _scrub(value: object) -> object:
    if isinstance(value, str):
        for pattern, replacement in REDACTIONS:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def _redact(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    return {key: _scrub(value) for key, value in event.items()}


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Route structlog and the standard library (uvicorn, alembic) through one renderer."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        _request_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _redact,  # after the traceback is text, so it is scrubbed too
                renderer,
            ],
        )
    )
    handler.set_name("scanmatch")
    root = logging.getLogger()
    # Replace only our own handler: others (a test harness's, an operator's) stay attached.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != "scanmatch"] + [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # One line per request comes from our middleware, with the request id; uvicorn's would lack it.
    logging.getLogger("uvicorn.access").disabled = True


class Metrics:
    """The service's Prometheus metrics, on a registry of their own (one per app, so tests can make many)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "scanmatch_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "scanmatch_http_request_seconds", "HTTP request latency", ["method", "route"], registry=self.registry
        )
        self.filings = Counter(
            "scanmatch_filings_total", "Filings accepted", ["filer_type", "outcome"], registry=self.registry
        )
        # Read at each scrape from the matcher, once matching has started (service.api.app).
        self.embedding_backlog = Gauge(
            "scanmatch_embedding_backlog", "Stored images still waiting for an embedding", registry=self.registry
        )
        self.verdict_lag = Gauge(
            "scanmatch_verdict_lag_seconds",
            "How long the oldest verdict still owed after a filing has waited",
            registry=self.registry,
        )
        self.refresh_queue = Gauge(
            "scanmatch_verdict_refresh_queue", "Shipments queued or being refreshed in memory", registry=self.registry
        )

    def watch(self, *, backlog: Callable[[], float], lag: Callable[[], float], queued: Callable[[], float]) -> None:
        """Read the matching gauges from these functions at each scrape."""
        self.embedding_backlog.set_function(backlog)
        self.verdict_lag.set_function(lag)
        self.refresh_queue.set_function(queued)


log = structlog.get_logger("scanmatch.http")


async def observe_request(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    metrics: Metrics = request.app.state.metrics
    start = time.perf_counter()
    status = 500
    try:
        response = await call_next(request)
        status = response.status_code
        return response
    finally:
        elapsed = time.perf_counter() - start
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(request.method, route, str(status)).inc()
        metrics.latency.labels(request.method, route).observe(elapsed)
        log.info(
            "request", method=request.method, path=request.url.path, status=status, duration_ms=round(elapsed * 1000, 1)
        )
