"""No administrator locks every administrator out (issue 20): over the API, in the console, in the domain."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db.engine import make_engine, make_session_factory
from service.db.tables import ApiKey, AuditEvent
from service.domain import participants
from service.domain.actors import Actor, Principal
from service.domain.errors import WouldLockOut
from tests.service.test_console import csrf_token, sign_in
from tests.support import auth


def active(session: Session, key_id: str) -> bool:
    session.expire_all()
    return session.get_one(ApiKey, key_id).revoked_at is None


def outcomes(session: Session) -> list[str]:
    session.expire_all()
    query = select(AuditEvent.outcome).where(AuditEvent.action == "key.revoke").order_by(AuditEvent.id)
    return list(session.scalars(query))


def test_an_admin_cannot_revoke_its_own_key_over_the_api(client: TestClient, keys: Any, session: Session) -> None:
    ada, bob = keys("admin", "Ada"), keys("admin", "Bob")
    refused = client.delete(f"/v1/keys/{ada.key_id}", headers=auth(ada))
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "would_lock_out" and "the key you are using" in refused.json()["message"]
    assert active(session, ada.key_id)
    assert client.get("/v1/keys", headers=auth(ada)).status_code == 200
    # Another administrator may revoke it: someone is still left to manage keys.
    assert client.delete(f"/v1/keys/{ada.key_id}", headers=auth(bob)).status_code == 200
    assert not active(session, ada.key_id)
    # Bob's is now the last administrator key, and his own: refused as well.
    last = client.delete(f"/v1/keys/{bob.key_id}", headers=auth(bob))
    assert last.status_code == 409 and active(session, bob.key_id)
    assert outcomes(session) == ["would_lock_out", "ok", "would_lock_out"]


def test_the_last_admin_key_is_never_revoked(keys: Any, session: Session) -> None:
    ada, carrier = keys("admin", "Ada"), keys("carrier")
    # An administrator acting without a key of its own in hand (a caller from outside a request).
    actor = Actor(Principal(ada.participant_id, ada.name, ada.role, ada.originator_code))
    with pytest.raises(WouldLockOut, match="last administrator key"):
        participants.revoke_for(session=session, actor=actor, key_id=ada.key_id)
    assert active(session, ada.key_id)
    participants.revoke_for(session=session, actor=actor, key_id=carrier.key_id)  # other roles' keys: as before
    assert not active(session, carrier.key_id)
    assert outcomes(session) == ["would_lock_out", "ok"]


def test_the_console_refuses_revoking_the_signed_in_key(client: TestClient, keys: Any, session: Session) -> None:
    ada = keys("admin", "Ada")
    assert sign_in(client, ada.key).status_code == 303
    page = client.get("/console/admin/keys")
    assert f"/console/admin/keys/{ada.key_id}/revoke" not in page.text and "your key" in page.text
    refused = client.post(
        f"/console/admin/keys/{ada.key_id}/revoke", data={"csrf_token": csrf_token(page)}, follow_redirects=False
    )
    assert refused.status_code == 409, refused.text
    assert "the key you are using" in refused.text
    assert active(session, ada.key_id)
    assert client.get("/console/admin/keys").status_code == 200  # still signed in
    assert outcomes(session) == ["would_lock_out"]


def test_two_admins_revoking_each_other_at_once_leave_one_admin(database_url: str) -> None:
    """Ada's revocation of Bob's key is not committed yet when Bob revokes Ada's: Bob's must wait for it and
    then find he would be the last administrator (PostgreSQL), or fail (SQLite, one writer): never both."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with sessions() as setup:
        ada = participants.create_key(setup, role="admin", name="Ada")
        bob = participants.create_key(setup, role="admin", name="Bob")

    def as_actor(key: participants.IssuedKey) -> Actor:
        return Actor(Principal(key.participant_id, key.name, "admin", key.originator_code, key_id=key.key_id))

    outcome: list[BaseException | None] = []

    def bob_revokes_ada() -> None:
        with sessions() as session:
            try:
                participants.revoke_for(session=session, actor=as_actor(bob), key_id=ada.key_id)
                outcome.append(None)
            except Exception as error:
                outcome.append(error)

    with sessions() as first:
        # Ada's revocation, as revoke_for does it, held open before its commit.
        participants._revoke_keeping_an_administrator(first, as_actor(ada), first.get_one(ApiKey, bob.key_id))
        other = threading.Thread(target=bob_revokes_ada)
        other.start()
        other.join(timeout=1.0)
        first.commit()
    other.join(timeout=60)
    with sessions() as check:
        still = [k for k in (ada.key_id, bob.key_id) if active(check, k)]
    engine.dispose()
    assert len(outcome) == 1 and outcome[0] is not None, "both administrators' keys were revoked"
    assert still == [ada.key_id]
    if database_url.startswith("postgresql"):
        assert isinstance(outcome[0], WouldLockOut) and "last administrator key" in str(outcome[0].message)
