"""The audit trail as a hash chain: each record carries the previous record's hash, so an edited, deleted or
reordered record shows when the chain is verified.

A record's hash is sha256 over the canonical JSON of its fields and `prev_hash` (`digest`). Records are chained
when they are flushed, under a lock on the one-row chain head (`audit_chain`): on PostgreSQL the row lock is
held to the end of the transaction, so two requests never chain to the same predecessor and the order of ids
is the order of the chain; SQLite takes one writer at a time anyway.

Records older than the retention period may be purged: verification anchors on the oldest remaining record
(whose predecessor is gone) and checks every link from there to the head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, UOWTransaction

from service.db.tables import AuditChainHead, AuditEvent, utcnow

GENESIS = "0" * 64  # the predecessor of the first record ever written
HEAD_ROW = 1
# The fields a record's hash covers, besides prev_hash. The order is irrelevant (keys are sorted); changing
# the set or the serialization breaks every existing chain, so it would need a version of its own.
FIELDS = (
    "at",
    "request_id",
    "participant_id",
    "participant_name",
    "role",
    "action",
    "outcome",
    "shipment_id",
    "filing_id",
    "image_sha256",
    "detail",
)


def digest(fields: Mapping[str, Any], prev_hash: str) -> str:
    """sha256 of a record's canonical form: its fields and prev_hash as JSON, keys sorted, ASCII, no spaces,
    the time in UTC ISO 8601 to the microsecond."""
    at: datetime = fields["at"]
    body = {name: fields[name] for name in FIELDS} | {
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _fields(row: AuditEvent) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FIELDS}


def _lock_head(session: Session) -> str:
    """Take the chain head for this transaction and return the newest record's hash."""
    connection = session.connection()
    dialect = connection.dialect.name
    # The row may be missing (a database emptied by hand): create it, without racing another writer.
    insert_head: Callable[..., Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect, insert)
    statement = insert_head(AuditChainHead).values(id=HEAD_ROW)
    if dialect in ("postgresql", "sqlite"):
        statement = statement.on_conflict_do_nothing()
    # On SQLite this write takes the database's one write lock; on PostgreSQL FOR UPDATE locks the row.
    connection.execute(statement)
    head = connection.scalar(select(AuditChainHead.head_hash).where(AuditChainHead.id == HEAD_ROW).with_for_update())
    if head is None:  # a new head row: chain on from the newest record, if any
        head = connection.scalar(select(AuditEvent.record_hash).order_by(AuditEvent.id.desc()).limit(1))
    return head or GENESIS


def _append(session: Session, _context: UOWTransaction, _instances: Iterable[object] | None) -> None:
    new = [o for o in session.new if isinstance(o, AuditEvent) and o.record_hash is None]
    if not new:
        return
    new.sort(key=lambda o: sa_inspect(o).insert_order)  # the order they were added: ids follow it
    head = _lock_head(session)
    for row in new:
        row.at = utcnow()  # when it entered the trail: times rise with the chain
        row.prev_hash = head
        row.record_hash = head = digest(_fields(row), head)
    session.connection().execute(
        update(AuditChainHead).where(AuditChainHead.id == HEAD_ROW).values(head_hash=head, head_at=new[-1].at)
    )


event.listen(Session, "before_flush", _append)


@dataclass(frozen=True)
class Verification:
    records: int
    first: tuple[int, datetime] | None  # (id, at) of the oldest record checked
    last: tuple[int, datetime] | None
    anchored: bool  # the oldest record's predecessor is gone (purged); the chain is checked from it on
    head: str | None
    broken_at: tuple[int, datetime] | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def lines(self) -> list[str]:
        if self.problem is not None:
            if self.broken_at is None:
                return [f"audit trail BROKEN: {self.problem}"]
            record, at = self.broken_at
            return [f"audit trail BROKEN at record #{record} ({at:%Y-%m-%d %H:%M:%S.%f} UTC): {self.problem}"]
        if self.first is None or self.last is None:
            return ["audit trail intact: no records yet"]
        start = "its predecessor purged" if self.anchored else "the first record ever written"
        return [
            f"audit trail intact: {self.records:,} records, #{self.first[0]} ({self.first[1]:%Y-%m-%d %H:%M:%S} "
            f"UTC, {start}) to #{self.last[0]} ({self.last[1]:%Y-%m-%d %H:%M:%S} UTC)",
            f"head: {self.head}",
        ]


def verify(session: Session, *, progress: Callable[[int], None] | None = None) -> Verification:
    """Walk the trail oldest first and report the first link that does not hold."""
    head = session.scalar(select(AuditChainHead.head_hash).where(AuditChainHead.id == HEAD_ROW))
    # Streamed (a server-side cursor on PostgreSQL), closed even when a broken link ends the walk early.
    with closing(session.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000))) as rows:
        return _walk(rows, head, progress)


def _walk(rows: Iterable[AuditEvent], head: str | None, progress: Callable[[int], None] | None) -> Verification:
    count, first, last, previous = 0, None, None, None
    anchored = False

    def broken(row: AuditEvent, problem: str) -> Verification:
        return Verification(count, first, last, anchored, head, broken_at=(row.id, row.at), problem=problem)

    for row in rows:
        if row.record_hash is None or row.prev_hash is None:
            return broken(row, "it carries no hash: it was written outside the service, or by a version before 0008")
        computed = digest(_fields(row), row.prev_hash)
        if computed != row.record_hash:
            return broken(
                row,
                f"its fields no longer give its hash (stored {row.record_hash[:16]}..., its fields give "
                f"{computed[:16]}...): the record was altered after it was written",
            )
        if previous is None:
            anchored = row.prev_hash != GENESIS
            first = (row.id, row.at)
        elif row.prev_hash != previous.record_hash:
            return broken(
                row,
                f"it follows record #{previous.id} ({previous.at:%Y-%m-%d %H:%M:%S} UTC) but names another "
                f"predecessor (hash {row.prev_hash[:16]}..., #{previous.id} has {previous.record_hash[:16]}...): "
                f"records between them were deleted, or #{previous.id} was rewritten",
            )
        previous, last, count = row, (row.id, row.at), count + 1
        if progress is not None:
            progress(1)
    if previous is None and head is not None:
        return Verification(
            0,
            None,
            None,
            False,
            head,
            problem="the chain head names a record, but none remain: every record was deleted",
        )
    if previous is not None and head != previous.record_hash:
        problem = (
            "the chain head is missing"
            if head is None
            else f"the chain head names {head[:16]}..., not this newest record's hash: newer records were deleted"
        )
        return broken(previous, problem)
    return Verification(count, first, last, anchored, head)


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0
