"""Refreshing a shipment's verdict after a filing: on the matcher's own threads, never a request's."""

from __future__ import annotations

import structlog

from service.matching import verdicts
from service.matching.matcher import Matcher

log = structlog.get_logger("scanmatch.refresh")


def schedule(matcher: Matcher, shipment_id: str) -> None:
    """Refresh a shipment's verdict soon (a filing arrived), on the matcher's verdict threads."""
    matcher.refresher.submit(refresh, matcher, shipment_id)


def refresh(matcher: Matcher, shipment_id: str) -> None:
    """Compute and store a shipment's verdict unless a current one is stored; failures are logged, not raised."""
    try:
        # Wait for the embeddings first, holding no database connection while the worker runs.
        with matcher.sessions() as session:
            items = verdicts.image_items(session, shipment_id)
        matcher.embedder.embed_now(items)
        with matcher.sessions() as session:
            verdicts.current(session, matcher, shipment_id)
            session.commit()
    except Exception:
        log.exception("verdict refresh failed", shipment_id=shipment_id)
