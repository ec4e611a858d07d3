"""How the console shows things: the template environment (autoescaped), its filters, and rendering a page."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from models.encoders.taxonomy import TAXONOMY
from service.api.console.auth import Visitor
from service.api.console.plots import Series
from service.db.tables import utcnow
from service.matching.verdicts import CheckView

HERE = Path(__file__).parent
STATIC = HERE / "static"

# The decision in words an inspector acts on, and its colour (a CSS class).
DECISIONS: dict[str, tuple[str, str]] = {
    "mismatch": ("Does not match the listing: examine", "bad"),
    "inconclusive": ("Inconclusive: look closer", "warn"),
    "insufficient_data": ("Not enough data to compare", "none"),
    "match": ("Matches the listing", "good"),
}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
# How the stats page's plots stack and colour decisions and examination outcomes (classes in console.css).
DECISION_SERIES = [
    Series("mismatch", "mismatch", "s-bad"),
    Series("inconclusive", "inconclusive", "s-warn"),
    Series("insufficient_data", "not enough data", "s-none"),
    Series("match", "match", "s-good"),
]
OUTCOME_SERIES = [
    Series("prohibited_item", "prohibited item", "s-dark"),
    Series("contents_mismatch", "contents mismatch", "s-bad"),
    Series("undeclared_items", "undeclared items", "s-warn"),
    Series("quantity_mismatch", "quantity mismatch", "s-none"),
    Series("contents_match", "contents match", "s-good"),
]


def decision_words(decision: str) -> str:
    return DECISIONS.get(decision, (decision, "none"))[0]


def decision_class(decision: str) -> str:
    return DECISIONS.get(decision, (decision, "none"))[1]


def risk_words(risk: float) -> str:
    if risk >= 0.8:
        return "very high"
    if risk >= 0.5:
        return "high"
    if risk >= 0.2:
        return "moderate"
    return "low"


def risk_class(risk: float) -> str:
    return "bad" if risk >= 0.5 else "warn" if risk >= 0.2 else "good"


def category(name: str | None) -> str:
    if not name:
        return "-"
    return TAXONOMY[name].label if name in TAXONOMY else name.replace("_", " ")


def age(when: datetime, now: datetime | None = None) -> str:
    seconds = max(0, int(((now or utcnow()) - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def duration(seconds: int) -> str:
    for unit, size in (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
    return f"{seconds} s"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def failed_first(checks: list[CheckView]) -> list[CheckView]:
    return sorted(checks, key=lambda c: (c.passed, SEVERITY_ORDER.get(c.severity, 3)))


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A filing's elements as (path, value) rows: seller.address.city, ..."""
    if isinstance(value, dict):
        return [row for key, item in value.items() for row in flatten(item, f"{prefix}.{key}" if prefix else key)]
    if isinstance(value, list):
        return [row for i, item in enumerate(value) for row in flatten(item, f"{prefix}[{i}]")]
    return [(prefix, "yes" if value is True else "no" if value is False else str(value))]


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every page escapes what filers and inspectors wrote
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        decision_words=decision_words,
        decision_class=decision_class,
        risk_words=risk_words,
        risk_class=risk_class,
        category=category,
        age=age,
        percent=percent,
    )
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request, template: str, *, visitor: Visitor | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    who = visitor.actor.principal if visitor else None
    return templates.TemplateResponse(
        request,
        template,
        {"who": who, "csrf_token": visitor.csrf_token if visitor else "", **context},
        status_code=status_code,
    )
