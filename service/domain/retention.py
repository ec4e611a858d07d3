"""The retention policy applied: what `scanmatch purge` removes from the database and the image store.

What goes (settings.Retention says when):
- a shipment whose last filing is older than `filings_days`, with its filings, identifiers, consolidation
  memberships, verdict, examinations and the ids merged into it;
- the images of filings older than `images_days` (and of every purged filing);
- what derives from an image that no remaining filing references: its embeddings (every model's), its
  rows in the labelled galleries that came from filings (examinations, listing words), its gallery vectors,
  its file; an image an operator imported into a labelled gallery (`scanmatch gallery import`) is the
  operator's reference data, not a filing's, and stays in the gallery with its file;
- audit records older than `audit_days` (always the oldest: the trail loses a prefix, never a middle).

A shipment under an enforcement hold (service.domain.holds) is kept with its images, whatever its age.
Everything in the database goes in one transaction with the audit events that say who purged what; the
files follow once it has committed. FAISS indexes and where-to-look overlays are the matching layer's
(service.matching.purging): `scanmatch purge` runs both, holding the data directory alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from tqdm import tqdm

from service.db.tables import (
    AuditEvent,
    ConsolidationMember,
    Embedding,
    Examination,
    Filing,
    FilingImage,
    GalleryPhoto,
    GalleryScan,
    GalleryVector,
    Shipment,
    ShipmentIdentifier,
    StoredImage,
    Verdict,
)
from service.domain import audit, holds
from service.domain.actors import Actor
from service.domain.images import ImageStore
from service.settings import Retention

CHUNK = 500  # ids per IN (...) list: well under SQLite's bound on parameters
IMPORTED = "import"  # gallery rows an operator imported: reference data, not a filing's
# A file with no database row is an interrupted purge's leftover once it is this old; a younger one may be an
# image being filed (written before its row commits).
ORPHAN_AGE_S = 3600.0
T = TypeVar("T")


@dataclass(frozen=True)
class Cutoffs:
    """Data from before these instants goes; None keeps that kind."""

    filings: datetime | None
    images: datetime | None
    audit: datetime | None

    @classmethod
    def of(cls, policy: Retention, now: datetime) -> Cutoffs:
        def before(days: int | None) -> datetime | None:
            return None if days is None else now - timedelta(days=days)

        images = policy.images_days if policy.images_days is not None else policy.filings_days
        return cls(filings=before(policy.filings_days), images=before(images), audit=before(policy.audit_days))


@dataclass
class Plan:
    """What a purge removes, worked out before anything is removed (a dry run prints its counts)."""

    cutoffs: Cutoffs
    shipments: list[str] = field(default_factory=list)  # surviving shipment ids
    aliases: list[str] = field(default_factory=list)  # ids merged into them
    filings: list[str] = field(default_factory=list)
    examinations: list[int] = field(default_factory=list)
    # Images of kept filings that expire: (filing id, role), and the shipments whose evidence that changes.
    expired: list[tuple[str, str]] = field(default_factory=list)
    thinned: list[str] = field(default_factory=list)
    unfiled: list[str] = field(default_factory=list)  # images no remaining filing references
    images: list[str] = field(default_factory=list)  # of those, the ones removed (no imported gallery row)
    embeddings: int = 0
    gallery_vectors: int = 0
    held: list[str] = field(default_factory=list)  # shipments past retention that a hold keeps
    audit_before_id: int | None = None  # audit events with a smaller id go
    audit_events: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "shipments": len(self.shipments),
            "merged_ids": len(self.aliases),
            "filings": len(self.filings),
            "examinations": len(self.examinations),
            "filing_images": len(self.expired),
            "images": len(self.images),
            "images_kept_for_gallery": len(self.unfiled) - len(self.images),
            "embeddings": self.embeddings,
            "gallery_vectors": self.gallery_vectors,
            "audit_records": self.audit_events,
            "held_shipments_kept": len(self.held),
        }

    @property
    def empty(self) -> bool:
        return not any(v for k, v in self.counts().items() if k != "held_shipments_kept")


@dataclass(frozen=True)
class Vector:
    """A removed vector: the index that may hold it is the model's folder and `index` (listings, scans, a gallery)."""

    model_sha256: str
    index: str
    id: int
    dim: int


@dataclass
class Purged:
    """What a purge removed: the database rows are gone; the caller removes the vectors from the indexes."""

    plan: Plan
    vectors: list[Vector] = field(default_factory=list)
    galleries_changed: bool = False  # labelled rows left the galleries: their indexes must be rebuilt
    files: int = 0  # image files deleted (orphans of an interrupted purge included)


def plan(session: Session, policy: Retention, *, now: datetime) -> Plan:
    """Work out what the policy removes at `now`, without removing anything."""
    cut = Cutoffs.of(policy, now)
    found = Plan(cutoffs=cut)
    held = holds.held_ids(session)
    if cut.filings is not None:
        last = func.coalesce(func.max(Filing.received_at), Shipment.created_at)
        expired = session.scalars(
            select(Shipment.id)
            .outerjoin(Filing, Filing.shipment_id == Shipment.id)
            .where(Shipment.merged_into_id.is_(None))
            .group_by(Shipment.id, Shipment.created_at)
            .having(last < cut.filings)
            .order_by(Shipment.id)
        ).all()
        found.shipments = [s for s in expired if s not in held]
        found.held = [s for s in expired if s in held]
        found.aliases = _select_in(session, select(Shipment.id), Shipment.merged_into_id, found.shipments)
        everyone = found.shipments + found.aliases
        found.filings = _select_in(session, select(Filing.id), Filing.shipment_id, everyone)
        found.examinations = _select_in(session, select(Examination.id), Examination.shipment_id, everyone)
    purged_filings = set(found.filings)
    gone: set[tuple[str, str]] = set()
    candidates: set[str] = set()
    for filing_id, role, sha in _select_in(
        session,
        select(FilingImage.filing_id, FilingImage.role, FilingImage.image_sha256),
        FilingImage.filing_id,
        found.filings,
    ):
        gone.add((filing_id, role))
        candidates.add(sha)
    if cut.images is not None:
        old = session.execute(
            select(FilingImage.filing_id, FilingImage.role, FilingImage.image_sha256, Filing.shipment_id)
            .join(Filing, Filing.id == FilingImage.filing_id)
            .where(Filing.received_at < cut.images)
            .order_by(FilingImage.filing_id, FilingImage.role)
        ).all()
        for filing_id, role, sha, shipment_id in old:
            if filing_id not in purged_filings and shipment_id not in held:
                found.expired.append((filing_id, role))
                found.thinned.append(shipment_id)
                gone.add((filing_id, role))
                candidates.add(sha)
        found.thinned = sorted(set(found.thinned))
    candidates |= {
        sha
        for sha in _select_in(session, select(Examination.xray_sha256), Examination.id, found.examinations)
        if sha is not None
    }
    still_filed = {
        sha
        for filing_id, role, sha in _select_in(
            session,
            select(FilingImage.filing_id, FilingImage.role, FilingImage.image_sha256),
            FilingImage.image_sha256,
            sorted(candidates),
        )
        if (filing_id, role) not in gone
    }
    found.unfiled = sorted(candidates - still_filed)
    imported = set()
    for table in (GalleryScan, GalleryPhoto):
        query = select(table.image_sha256).where(table.source == IMPORTED)
        imported |= set(_select_in(session, query, table.image_sha256, found.unfiled))
    found.images = [sha for sha in found.unfiled if sha not in imported]
    found.embeddings = _count_in(session, Embedding.image_sha256, found.unfiled)
    found.gallery_vectors = _count_in(session, GalleryVector.image_sha256, found.images)
    if cut.audit is not None:
        first_kept = session.scalar(select(func.min(AuditEvent.id)).where(AuditEvent.at >= cut.audit))
        if first_kept is None:
            first_kept = (session.scalar(select(func.max(AuditEvent.id))) or 0) + 1
        found.audit_before_id = first_kept
        found.audit_events = session.scalar(select(func.count()).where(AuditEvent.id < first_kept)) or 0
    return found


def purge(session: Session, found: Plan, *, actor: Actor, store: ImageStore, progress: bool = False) -> Purged:
    """Remove what `found` names, audited, in one transaction; then the image files. The caller must hold the
    data directory alone (service.domain.data_lock) and bring the indexes in line (service.matching.purging)."""
    done = Purged(plan=found)
    if found.audit_before_id is not None:
        # Before this purge's own events are added: the trail keeps them, whatever the policy says.
        session.execute(delete(AuditEvent).where(AuditEvent.id < found.audit_before_id))
    everyone = found.shipments + found.aliases
    filings_of = _group(_select_in(session, select(Filing.shipment_id, Filing.id), Filing.shipment_id, everyone))
    bar = tqdm(total=len(found.shipments), desc="shipments", unit="shp", disable=not progress)
    for chunk in _chunks(found.shipments):
        merged = _group(
            (survivor, alias)
            for alias, survivor in _select_in(
                session, select(Shipment.id, Shipment.merged_into_id), Shipment.merged_into_id, chunk
            )
        )
        aliases = [alias for survivor in chunk for alias in merged.get(survivor, [])]
        ids = [*chunk, *aliases]
        filings = [f for s in ids for f in filings_of.get(s, [])]
        exams = _select_in(session, select(Examination.id), Examination.shipment_id, ids)
        for table in (GalleryScan, GalleryPhoto):
            done.galleries_changed |= _delete_in(session, table, table.examination_id, exams) > 0
        _delete_in(session, Examination, Examination.id, exams)
        _delete_in(session, FilingImage, FilingImage.filing_id, filings)
        _delete_in(session, Filing, Filing.id, filings)
        _delete_in(session, Verdict, Verdict.shipment_id, ids)
        _delete_in(session, ShipmentIdentifier, ShipmentIdentifier.shipment_id, ids)
        _delete_in(session, ConsolidationMember, ConsolidationMember.shipment_id, ids)
        _delete_in(session, Shipment, Shipment.id, aliases)
        _delete_in(session, Shipment, Shipment.id, chunk)
        why = f"last filing before {found.cutoffs.filings:%Y-%m-%d %H:%M} UTC" if found.cutoffs.filings else ""
        for shipment_id in chunk:
            also = merged.get(shipment_id, [])
            audit.record(
                session,
                actor=actor,
                action="shipment.purge",
                outcome="ok",
                shipment_id=shipment_id,
                detail=f"retention: {why}; {len(filings_of.get(shipment_id, []))} filing(s)"
                + (f"; merged ids {', '.join(also)}" if also else ""),
            )
        bar.update(len(chunk))
    bar.close()
    filings_with = _group(found.expired)
    for filing_id, role in found.expired:
        session.execute(delete(FilingImage).where(FilingImage.filing_id == filing_id, FilingImage.role == role))
    _delete_in(session, Verdict, Verdict.shipment_id, found.thinned)
    shipment_of = dict(_select_in(session, select(Filing.id, Filing.shipment_id), Filing.id, sorted(filings_with)))
    for filing_id, roles in filings_with.items():
        audit.record(
            session,
            actor=actor,
            action="images.purge",
            outcome="ok",
            shipment_id=shipment_of.get(filing_id),
            filing_id=filing_id,
            detail=f"retention: images ({', '.join(roles)}) of a filing received before "
            f"{found.cutoffs.images:%Y-%m-%d %H:%M} UTC",
        )
    done.vectors += [
        Vector(model, {"photo": "listings", "xray": "scans"}[modality], i, dim)
        for i, model, modality, dim in _select_in(
            session,
            select(Embedding.id, Embedding.model_sha256, Embedding.modality, Embedding.dim),
            Embedding.image_sha256,
            found.unfiled,
        )
    ]
    _delete_in(session, Embedding, Embedding.image_sha256, found.unfiled)
    for table in (GalleryScan, GalleryPhoto):
        rows = _select_in(session, select(table.id).where(table.source != IMPORTED), table.image_sha256, found.unfiled)
        done.galleries_changed |= _delete_in(session, table, table.id, rows) > 0
    for chunk in _chunks(found.unfiled):
        session.execute(update(Examination).where(Examination.xray_sha256.in_(chunk)).values(xray_sha256=None))
    done.vectors += [
        Vector(model, f"gallery-{method}", i, dim)
        for i, model, method, dim in _select_in(
            session,
            select(GalleryVector.id, GalleryVector.model_sha256, GalleryVector.method, GalleryVector.dim),
            GalleryVector.image_sha256,
            found.images,
        )
    ]
    _delete_in(session, GalleryVector, GalleryVector.image_sha256, found.images)
    _delete_in(session, StoredImage, StoredImage.sha256, found.images)
    stale = _verdicts_naming(session, set(everyone) | set(found.unfiled))
    _delete_in(session, Verdict, Verdict.shipment_id, stale)
    audit.record(
        session,
        actor=actor,
        action="retention.purge",
        outcome="ok",
        detail=json.dumps(
            {
                "counts": found.counts(),
                "cutoffs": {k: v.isoformat() if v else None for k, v in vars(found.cutoffs).items()},
                "held_shipments_kept": found.held,
                "audit_records_before_id": found.audit_before_id if found.audit_events else None,
                "verdicts_recomputed": len(stale),
            }
        ),
    )
    session.commit()
    # Files only once the database no longer names them: a crash between leaves orphans the next purge sweeps.
    files = [*found.images, *_orphans(session, store)]
    bar = tqdm(total=len(files), desc="image files", unit="img", disable=not progress)
    for sha in files:
        done.files += store.delete(sha)
        bar.update(1)
    bar.close()
    return done


def _orphans(session: Session, store: ImageStore) -> list[str]:
    """Files in the store with no database row (an interrupted purge's), old enough not to be an image in flight."""
    on_disk = sorted(store.stored(older_than_s=ORPHAN_AGE_S))
    known = set(_select_in(session, select(StoredImage.sha256), StoredImage.sha256, on_disk))
    return [sha for sha in on_disk if sha not in known]


WORD = re.compile(r"shp_[0-9a-f]+|[0-9a-f]{64}")


def _verdicts_naming(session: Session, words: set[str]) -> list[str]:
    """Shipments whose stored verdict names a purged shipment or image (nearest listings and scans, reused
    x-rays, labelled neighbours): computed again on their next read, without them."""
    if not words:
        return []
    return [
        shipment_id
        for shipment_id, payload in session.execute(select(Verdict.shipment_id, Verdict.payload))
        if not words.isdisjoint(WORD.findall(json.dumps(payload)))
    ]


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _select_in(session: Session, query: Any, column: Any, values: Sequence[Any]) -> list[Any]:
    """`query` where `column` is one of `values`, chunked: scalars for a one-column query, else rows."""
    out: list[Any] = []
    one = len(query.selected_columns) == 1
    for chunk in _chunks(values):
        result = session.execute(query.where(column.in_(chunk)))
        out += result.scalars().all() if one else [tuple(row) for row in result.all()]
    return out


def _count_in(session: Session, column: Any, values: Sequence[Any]) -> int:
    return sum(
        session.scalar(select(func.count()).select_from(column.table).where(column.in_(chunk))) or 0
        for chunk in _chunks(values)
    )


def _delete_in(session: Session, table: Any, column: Any, values: Sequence[Any]) -> int:
    removed = 0
    for chunk in _chunks(values):
        removed += session.execute(delete(table).where(column.in_(chunk))).rowcount or 0  # type: ignore[attr-defined]
    return removed


def _group(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped
