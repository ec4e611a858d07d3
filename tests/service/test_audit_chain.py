"""The audit trail's hash chain: intact trails verify; an edited, deleted or truncated record is named; writes at
once never fork the chain; the migration chains the records already written."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from service.db.engine import make_engine, make_session_factory
from service.db.migrate import upgrade
from service.db.tables import AuditEvent
from service.domain import audit, audit_chain
from service.domain.actors import Actor
from tests.service.test_cli import scanmatch
from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart


def file_some(client: TestClient, keys, n: int = 3) -> None:  # type: ignore[no-untyped-def]
    shop, carrier = keys("marketplace"), keys("carrier")
    for i in range(n):
        filing = marketplace_filing(shop.originator_code, tracking=f"T{i}")
        response = client.post(
            "/v1/filings", files=multipart(filing, product_picture=image_bytes(seed=i)), headers=auth(shop)
        )
        assert response.status_code == 201, response.text
    # Refusals are audited too: a wrong key, a carrier reading the audit trail.
    assert client.get("/v1/shipments?tracking_number=T0", headers=auth("smk_wrong")).status_code == 401
    assert client.get("/v1/audit", headers=auth(carrier)).status_code == 403
    filing = carrier_filing(carrier.originator_code, tracking="T0")
    response = client.post(
        "/v1/filings", files=multipart(filing, security_scan=image_bytes(seed=99)), headers=auth(carrier)
    )
    assert response.status_code == 201, response.text


def ids(session: Session) -> list[int]:
    return list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def test_an_intact_trail_verifies(client: TestClient, keys, session: Session) -> None:
    file_some(client, keys)
    result = audit_chain.verify(session)
    assert result.ok, result.lines()
    assert result.records == len(ids(session)) >= 6 and not result.anchored
    rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert rows[0].prev_hash == audit_chain.GENESIS
    assert all(b.prev_hash == a.record_hash for a, b in zip(rows, rows[1:], strict=False))
    assert result.head == rows[-1].record_hash


def test_an_edited_detail_is_reported_at_its_record(client: TestClient, keys, session: Session) -> None:
    file_some(client, keys)
    target = ids(session)[3]
    session.execute(text("UPDATE audit_events SET detail = 'nothing to see' WHERE id = :id"), {"id": target})
    session.commit()
    result = audit_chain.verify(session)
    assert not result.ok and result.broken_at is not None and result.broken_at[0] == target
    assert "altered" in (result.problem or "")


def test_an_edit_with_its_hash_recomputed_breaks_the_next_link(client: TestClient, keys, session: Session) -> None:
    file_some(client, keys)
    target, after = ids(session)[2:4]
    row = session.get_one(AuditEvent, target)
    row.outcome = "forbidden" if row.outcome == "ok" else "ok"
    forged = audit_chain.digest({n: getattr(row, n) for n in audit_chain.FIELDS}, row.prev_hash)
    session.execute(update(AuditEvent).where(AuditEvent.id == target).values(outcome=row.outcome, record_hash=forged))
    session.commit()
    result = audit_chain.verify(session)
    assert not result.ok and result.broken_at is not None and result.broken_at[0] == after
    assert f"#{target} was rewritten" in (result.problem or "")


def test_a_deleted_middle_record_is_reported(client: TestClient, keys, session: Session) -> None:
    file_some(client, keys)
    before, gone, after = ids(session)[2:5]
    session.execute(delete(AuditEvent).where(AuditEvent.id == gone))
    session.commit()
    result = audit_chain.verify(session)
    assert not result.ok and result.broken_at is not None and result.broken_at[0] == after
    assert f"follows record #{before}" in (result.problem or "") and "deleted" in (result.problem or "")


def test_deleted_newest_records_are_reported(client: TestClient, keys, session: Session) -> None:
    file_some(client, keys)
    *_, last_kept, gone = ids(session)
    session.execute(delete(AuditEvent).where(AuditEvent.id == gone))
    session.commit()
    result = audit_chain.verify(session)
    assert not result.ok and result.broken_at is not None and result.broken_at[0] == last_kept
    assert "newer records were deleted" in (result.problem or "")


def test_a_purged_beginning_is_accepted_and_the_chain_checked_from_there(
    client: TestClient, keys, session: Session
) -> None:
    """Retention purges the oldest records: the chain anchors on the oldest one left."""
    file_some(client, keys)
    all_ids = ids(session)
    session.execute(delete(AuditEvent).where(AuditEvent.id < all_ids[3]))
    session.commit()
    result = audit_chain.verify(session)
    assert result.ok and result.anchored and result.records == len(all_ids) - 3, result.lines()
    assert result.first is not None and result.first[0] == all_ids[3]
    assert "its predecessor purged" in result.lines()[0]
    # ... and a record written afterwards chains on.
    audit.record(session, actor=Actor(None, "req-1"), action="test", outcome="ok")
    session.commit()
    assert audit_chain.verify(session).ok


def test_writes_at_once_never_fork_the_chain(database_url: str) -> None:
    """Threads that append at the same moment each chain to a different predecessor."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    threads, per_thread = 8, 10
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(per_thread):
                with sessions() as session:
                    audit.record(session, actor=Actor(None, f"req-{n}-{i}"), action="test.concurrent", outcome="ok")
                    if i == 0:
                        start.wait()
                    session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures, failures
    with sessions() as session:
        result = audit_chain.verify(session)
        assert result.ok and result.records == threads * per_thread, result.lines()
        prev = session.scalars(select(AuditEvent.prev_hash)).all()
        assert len(set(prev)) == len(prev)
        times = session.scalars(select(AuditEvent.at).order_by(AuditEvent.id)).all()
        assert times == sorted(times)
    engine.dispose()


def test_filings_at_once_keep_the_chain_valid(client: TestClient, keys, session: Session) -> None:
    shop = keys("marketplace")
    failures: list[str] = []

    def file(n: int) -> None:
        filing = marketplace_filing(shop.originator_code, tracking=f"C{n}")
        response = client.post(
            "/v1/filings", files=multipart(filing, product_picture=image_bytes(seed=100 + n)), headers=auth(shop)
        )
        if response.status_code != 201:
            failures.append(response.text)

    workers = [threading.Thread(target=file, args=(n,)) for n in range(12)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures
    result = audit_chain.verify(session)
    assert result.ok and result.records == 12, result.lines()


def test_the_command_reports_ok_or_the_broken_link(
    client: TestClient, keys, session: Session, tmp_path: Path, database_url: str
) -> None:
    file_some(client, keys)
    n = len(ids(session))
    ok = scanmatch("audit", "verify", data_dir=tmp_path, database_url=database_url)
    assert ok.returncode == 0, ok.stderr
    assert f"audit trail intact: {n:,} records" in ok.stdout
    target = ids(session)[1]
    session.execute(text("UPDATE audit_events SET participant_name = 'Someone Else' WHERE id = :id"), {"id": target})
    session.commit()
    broken = scanmatch("audit", "verify", data_dir=tmp_path, database_url=database_url)
    assert broken.returncode == 1
    assert f"audit trail BROKEN at record #{target}" in broken.stderr and "altered" in broken.stderr


def test_the_migration_chains_records_already_written(empty_database: str) -> None:
    upgrade(empty_database, "0007")
    engine = make_engine(empty_database)
    with engine.begin() as connection:
        for i in range(5):
            at = datetime(2026, 11, 30, 12, 0, i, 123456 * (i % 2), tzinfo=UTC)
            connection.execute(  # the columns 0007 has, written as the service wrote them
                insert(AuditEvent.__table__).values(
                    at=at, action="filing.create", outcome="ok", detail=f"#{i}", participant_name="Ann"
                )
            )
    upgrade(empty_database)
    with make_session_factory(engine)() as session:
        result = audit_chain.verify(session)
        assert result.ok and result.records == 5 and not result.anchored, result.lines()
        audit.record(session, actor=Actor(None, "req"), action="test", outcome="ok")
        session.commit()
        assert audit_chain.verify(session).records == 6
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.record_hash.is_(None))) == 0
    engine.dispose()
