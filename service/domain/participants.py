"""Participants and their API keys: created by an administrator, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.db.tables import ApiKey, Participant, utcnow
from service.domain import limits
from service.domain.access import ADMINS, audited, require
from service.domain.actors import FILER_ROLES, ROLES, Actor, Principal
from service.domain.errors import KeyProblem, NotAuthenticated, NotFound, WouldLockOut

KEY_PREFIX = "smk_"


class IssuedKey(BaseModel):
    key: str
    key_id: str
    participant_id: str
    name: str
    role: str
    originator_code: str | None


class KeyInfo(BaseModel):
    key_id: str
    participant_id: str
    name: str
    role: str
    originator_code: str | None
    created_at: datetime
    revoked_at: datetime | None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, *, role: str, name: str) -> IssuedKey:
    """Issue a key for the participant (name, role), creating the participant on first use.

    Filer roles get an originator code once, shared by all their keys; the key itself is shown
    only here and stored as a hash.
    """
    if role not in ROLES:
        raise KeyProblem(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    name = name.strip()
    if not name:
        raise KeyProblem("a participant name is needed")
    if (problem := limits.problem(name, max_length=limits.NAME_MAX)) is not None:
        raise KeyProblem(f"the participant name {problem}")
    participant = session.scalar(select(Participant).where(Participant.name == name, Participant.role == role))
    if participant is None:
        participant = Participant(
            id=f"par_{secrets.token_hex(8)}",
            name=name,
            role=role,
            originator_code=f"OC{secrets.token_hex(4).upper()}" if role in FILER_ROLES else None,
        )
        session.add(participant)
        session.flush()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(id=f"key_{secrets.token_hex(8)}", participant_id=participant.id, key_hash=_hash(key))
    session.add(row)
    session.commit()
    return IssuedKey(
        key=key,
        key_id=row.id,
        participant_id=participant.id,
        name=participant.name,
        role=participant.role,
        originator_code=participant.originator_code,
    )


def _find(session: Session, key_or_id: str) -> ApiKey:
    row = session.scalar(select(ApiKey).where(or_(ApiKey.id == key_or_id, ApiKey.key_hash == _hash(key_or_id))))
    if row is None:
        raise KeyProblem("no such key: give the key id printed by `scanmatch keys create` or the key itself")
    return row


def revoke_key(session: Session, key_or_id: str) -> KeyInfo:
    """Revoke by key id (key_...) or by the key itself; revoking twice is harmless."""
    row = _find(session, key_or_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
    return _info(session, row)


def list_keys(session: Session) -> list[KeyInfo]:
    return [_info(session, row) for row in session.scalars(select(ApiKey).order_by(ApiKey.created_at))]


def _info(session: Session, row: ApiKey) -> KeyInfo:
    participant = session.get_one(Participant, row.participant_id)
    return KeyInfo(
        key_id=row.id,
        participant_id=participant.id,
        name=participant.name,
        role=participant.role,
        originator_code=participant.originator_code,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def authenticate(session: Session, authorization: str | None) -> Principal:
    """Turn an `Authorization: Bearer <key>` header into the participant behind it."""
    if not authorization:
        raise NotAuthenticated("no API key: send the header `Authorization: Bearer <key>`")
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise NotAuthenticated("malformed Authorization header: expected `Bearer <key>`")
    return principal(session, key_row(session, key.strip()))


def key_row(session: Session, key: str) -> ApiKey:
    """The stored key behind a key as issued; NotAuthenticated if it is unknown or revoked."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(key)))
    if row is None:
        raise NotAuthenticated("unknown API key")
    if row.revoked_at is not None:
        raise NotAuthenticated("this API key was revoked; ask an administrator for a new one")
    return row


def principal(session: Session, row: ApiKey) -> Principal:
    participant = session.get_one(Participant, row.participant_id)
    return Principal(
        participant_id=participant.id,
        name=participant.name,
        role=participant.role,
        originator_code=participant.originator_code,
        key_id=row.id,
    )


def issue_for(*, session: Session, actor: Actor, role: str, name: str) -> IssuedKey:
    """An administrator issues a key over the API (same rules as `scanmatch keys create`)."""
    with audited(session, actor, ADMINS, "key.create", refusing=KeyProblem) as event:
        issued = create_key(session, role=role, name=name)
        event["detail"] = f"{issued.key_id} {role} {name}"
    return issued


def revoke_for(*, session: Session, actor: Actor, key_id: str) -> KeyInfo:
    """An administrator revokes a key (API and console), never so that no administrator is left to manage keys."""
    with audited(session, actor, ADMINS, "key.revoke", refusing=(NotFound, WouldLockOut)) as event:
        try:
            row = _find(session, key_id)
        except KeyProblem as error:
            raise NotFound(error.message) from None
        _revoke_keeping_an_administrator(session, actor, row)
        info = _info(session, row)
        event["detail"] = key_id
    return info


def _revoke_keeping_an_administrator(session: Session, actor: Actor, row: ApiKey) -> None:
    """Revoke the key in the session (the caller commits), unless that leaves no administrator key."""
    if row.revoked_at is not None:
        return  # revoking twice is harmless
    if actor.principal is not None and row.id == actor.principal.key_id:
        raise WouldLockOut(
            f"{row.id} is the key you are using: revoke it with another administrator's key, "
            "so that whoever revokes it can still manage keys"
        )
    # The write first: on SQLite it waits for any other writer to commit, so the count below reads what
    # that writer did (two administrators revoking each other's keys at once).
    row.revoked_at = utcnow()
    session.flush()
    if session.get_one(Participant, row.participant_id).role not in ADMINS:
        return
    # The administrator keys still active, locked until this revocation commits (PostgreSQL): a concurrent
    # revocation of one of them is waited for, and then counted.
    active = session.scalars(
        select(ApiKey.id)
        .join(Participant, Participant.id == ApiKey.participant_id)
        .where(Participant.role.in_(ADMINS), ApiKey.revoked_at.is_(None))
        .with_for_update(of=ApiKey)
    ).all()
    if not active:
        raise WouldLockOut(
            f"{row.id} is the last administrator key: issue another one first "
            "(`scanmatch keys create --role admin --name NAME`)"
        )


def list_for(*, session: Session, actor: Actor) -> list[KeyInfo]:
    require(session, actor, ADMINS, "key.list")
    return list_keys(session)
