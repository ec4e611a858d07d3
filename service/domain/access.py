"""Access control: who may do what, with every attempt, granted or refused, in the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from service.domain import audit
from service.domain.actors import Actor
from service.domain.errors import DomainError, Forbidden, NotFound

INSPECTORS = ("inspector",)
ADMINS = ("admin",)


def require(session: Session, actor: Actor, roles: tuple[str, ...], action: str, **ids: str | None) -> None:
    """Refuse, and audit the refusal, unless the actor holds one of `roles`."""
    if not actor.has_role(*roles):
        role = actor.principal.role if actor.principal else "anonymous"
        raise audit.refuse(
            session,
            Forbidden(f"{role} keys may not {action}; it is for {' and '.join(roles)} keys"),
            actor=actor,
            action=action,
            **ids,
        )


@contextmanager
def audited(
    session: Session,
    actor: Actor,
    roles: tuple[str, ...],
    action: str,
    *,
    refusing: type[DomainError] | tuple[type[DomainError], ...] = NotFound,
    **ids: str | None,
) -> Iterator[dict[str, str | None]]:
    """Authorise `action` on `ids`, run the block, audit its outcome and commit.

    A `refusing` error raised in the block is audited against the ids asked for and re-raised,
    with nothing else of the block written. Otherwise one "ok" event is recorded with the fields
    the block leaves in the yielded dict: the ids asked for unless it changes them (a merged
    shipment's current id, say), and a `detail` if it adds one.
    """
    require(session, actor, roles, action, **ids)
    event = dict(ids)
    try:
        yield event
    except refusing as error:
        raise audit.refuse(session, error, actor=actor, action=action, **ids) from None
    audit.record(session, actor=actor, action=action, outcome="ok", **event)
    session.commit()
