"""Relational schema. The database is the source of truth; files and indexes derive from it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("name", "role"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    originator_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    # sha256 of a 256-bit random key: a slow hash adds nothing at that entropy and costs every request.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """An inspector's or administrator's signed-in console session: the browser holds the token, we its hash."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), index=True)
    # Sent back in every form of the session and compared on every post (synchronizer token).
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when a later filing linked this shipment to an older one; reads resolve through it.
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("shipments.id"), index=True)


class ShipmentHold(Base):
    """An enforcement hold: the shipment (with its images) is kept, whatever the retention policy, until released.

    One row while the hold stands; releasing deletes it. Who placed, changed and released it, and why, is in
    the audit trail."""

    __tablename__ = "shipment_holds"

    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    placed_by: Mapped[str] = mapped_column(String(200))  # the administrator's participant name
    placed_by_id: Mapped[str | None] = mapped_column(String(40))  # and participant id


class ShipmentIdentifier(Base):
    __tablename__ = "shipment_identifiers"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(100))
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)


class ConsolidationMember(Base):
    __tablename__ = "consolidation_members"

    master_bill: Mapped[str] = mapped_column(String(100), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), primary_key=True, index=True)


class Filing(Base):
    __tablename__ = "filings"
    __table_args__ = (UniqueConstraint("participant_id", "transmission_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    # The shipment id the receipt gave; a retry answers with the very same receipt even after a merge.
    receipt_shipment_id: Mapped[str] = mapped_column(String(40))
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"), index=True)
    filer_type: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(10))
    transmission_id: Mapped[str | None] = mapped_column(String(128))
    # Copied out of the payload so seller history and picture reuse are indexed lookups.
    seller_id: Mapped[str | None] = mapped_column(String(100), index=True)
    payload: Mapped[dict[str, Any]]
    elements: Mapped[list[Any]]
    warnings: Mapped[list[Any]]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredImage(Base):
    __tablename__ = "images"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    format: Mapped[str] = mapped_column(String(10))
    mode: Mapped[str] = mapped_column(String(10))
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FilingImage(Base):
    __tablename__ = "filing_images"

    filing_id: Mapped[str] = mapped_column(ForeignKey("filings.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    image_sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    request_id: Mapped[str | None] = mapped_column(String(64))
    participant_id: Mapped[str | None] = mapped_column(String(40))
    participant_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(40))
    shipment_id: Mapped[str | None] = mapped_column(String(40), index=True)
    filing_id: Mapped[str | None] = mapped_column(String(40), index=True)
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    # The hash chain (service.domain.audit_chain): the previous record's hash, and this record's, taken over
    # its fields and prev_hash. Set when the record is flushed, in the order records enter the trail.
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """One row: the newest audit record's hash. Appends lock it, so the chain never forks; verification
    compares it with the newest record, so deleting the newest records shows."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    head_hash: Mapped[str | None] = mapped_column(String(64))
    head_at: Mapped[datetime | None]


class FamiliarityReference(Base):
    """Embeddings one model is known to handle, per modality, and the familiarity threshold fitted on them."""

    __tablename__ = "familiarity_references"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_sha256: Mapped[str] = mapped_column(String(64), index=True)
    modality: Mapped[str] = mapped_column(String(10))
    fitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(20))
    k: Mapped[int]
    quantile: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    n: Mapped[int]
    dim: Mapped[int]
    vectors: Mapped[bytes] = mapped_column(LargeBinary)  # (n, dim) float32, little-endian, L2-normalised


class Embedding(Base):
    """One image embedded by one model: the source every FAISS index is rebuilt from."""

    __tablename__ = "embeddings"
    __table_args__ = (UniqueConstraint("image_sha256", "modality", "model_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    image_sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)
    modality: Mapped[str] = mapped_column(String(10))
    model_name: Mapped[str] = mapped_column(String(100))
    model_sha256: Mapped[str] = mapped_column(String(64), index=True)
    dim: Mapped[int]
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian, L2-normalised
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Verdict(Base):
    """The cached verdict of a shipment; deleted when a filing arrives, recomputed on the next read."""

    __tablename__ = "verdicts"

    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    model_sha256: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(20))
    risk: Mapped[float] = mapped_column(Float, index=True)
    payload: Mapped[dict[str, Any]]


class Examination(Base):
    """What a physical examination found; labels the x-ray for the gallery and scores past verdicts."""

    __tablename__ = "examinations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    participant_id: Mapped[str] = mapped_column(ForeignKey("participants.id"))
    outcome: Mapped[str] = mapped_column(String(30))
    found_category: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)
    xray_sha256: Mapped[str | None] = mapped_column(ForeignKey("images.sha256"))
    verdict_decision: Mapped[str | None] = mapped_column(String(20))
    verdict_risk: Mapped[float | None] = mapped_column(Float)
    examined_at: Mapped[datetime] = mapped_column(default=utcnow)


class Calibration(Base):
    """Platt scaling and decision thresholds for one model, fitted on labelled pairs."""

    __tablename__ = "calibrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_sha256: Mapped[str] = mapped_column(String(64), index=True)
    fitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(20))
    n: Mapped[int]
    params: Mapped[dict[str, Any]]


class GalleryScan(Base):
    """A labelled x-ray in the gallery: imported from an operator's archive, or examined and labelled."""

    __tablename__ = "gallery_scans"
    # Importing the same archive twice adds nothing: one row per image, category and kind.
    __table_args__ = (UniqueConstraint("image_sha256", "category", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    image_sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)
    category: Mapped[str] = mapped_column(String(60), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "scan" (a whole scan) or "crop" (one item's box)
    source: Mapped[str] = mapped_column(String(20))  # "import" or "examination"
    examination_id: Mapped[int | None] = mapped_column(ForeignKey("examinations.id"), index=True)
    origin: Mapped[str] = mapped_column(Text)  # the file and annotation it came from
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class GalleryPhoto(Base):
    """A labelled listing photo in the photo gallery: imported from an operator's folders, named by its
    listing's own words, or examined and found to match its listing."""

    __tablename__ = "gallery_photos"
    __table_args__ = (UniqueConstraint("image_sha256", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    image_sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)
    category: Mapped[str] = mapped_column(String(60), index=True)
    source: Mapped[str] = mapped_column(String(20))  # "import", "listing_words" or "examination"
    examination_id: Mapped[int | None] = mapped_column(ForeignKey("examinations.id"), index=True)
    origin: Mapped[str] = mapped_column(Text)  # the file, filing or examination it came from
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class GalleryVector(Base):
    """A gallery image embedded in a gallery space (a model and the method that reads it): the source of
    that space's FAISS index. A method may read several vectors (parts) off one image."""

    __tablename__ = "gallery_vectors"
    __table_args__ = (UniqueConstraint("image_sha256", "model_sha256", "method", "part"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    image_sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"), index=True)
    model_sha256: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str] = mapped_column(String(40))
    part: Mapped[int] = mapped_column(Integer, default=0)
    dim: Mapped[int]
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian, L2-normalised
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
