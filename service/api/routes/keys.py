"""Participants' API keys, for administrators (the same rules as `scanmatch keys`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from service.api.deps import BODY_ERRORS, RECORD_ID, V1_ERRORS, SessionDep, caller
from service.api.errors import answers
from service.domain import participants
from service.domain.actors import ROLES, Actor
from service.domain.limits import ROLE_MAX, Name

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=V1_ERRORS)
ADMINS_ONLY = answers({403: "administrators only"})


class KeyRequest(BaseModel):
    # Documented as the roles there are; the domain refuses any other, naming them (422 key_problem).
    role: str = Field(max_length=ROLE_MAX, json_schema_extra={"enum": list(ROLES)})
    name: Name


@router.post("", status_code=201, responses=ADMINS_ONLY | BODY_ERRORS)
def create_key(
    body: KeyRequest, session: SessionDep, actor: Annotated[Actor, Depends(caller("key.create"))]
) -> participants.IssuedKey:
    return participants.issue_for(session=session, actor=actor, role=body.role, name=body.name)


@router.get("", responses=ADMINS_ONLY)
def list_keys(session: SessionDep, actor: Annotated[Actor, Depends(caller("key.list"))]) -> list[participants.KeyInfo]:
    return participants.list_for(session=session, actor=actor)


@router.delete(
    "/{key_id}",
    responses=ADMINS_ONLY
    | answers(
        {
            404: "no such key",
            409: "your own key, or the last administrator key: nobody could manage keys after it",
        }
    ),
)
def revoke_key(
    key_id: Annotated[str, Path(**RECORD_ID)],
    session: SessionDep,
    actor: Annotated[Actor, Depends(caller("key.revoke"))],
) -> participants.KeyInfo:
    return participants.revoke_for(session=session, actor=actor, key_id=key_id)
