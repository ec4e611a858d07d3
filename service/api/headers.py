"""Security headers on every response: a Content-Security-Policy per part of the app, and the usual companions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

# The console: its own scripts, styles and images only; no inline script, no framing, forms post to itself.
CONSOLE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# FastAPI's Swagger UI page starts itself with an inline script; everything it loads is still the app's own.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def policy_for(path: str) -> str:
    if path == "/console" or path.startswith("/console/"):
        return CONSOLE_POLICY
    if path == "/docs" or path.startswith("/docs/"):
        return DOCS_POLICY
    return API_POLICY


async def secure_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", policy_for(request.url.path))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if response.headers.get("content-type", "").startswith("text/html"):
        response.headers.setdefault("Cache-Control", "no-store")  # pages show shipment data: never cache them
    return response
