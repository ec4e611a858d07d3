"""Participants' API keys, for administrators (the same rules as `scanmatch keys`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from service.api.deps import NEEDS_KEY, RECORD_ID, SessionDep, caller
from service.domain import participants
from service.domain.actors import Actor
from service.domain.limits import ROLE_MAX, Name

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=NEEDS_KEY)


class KeyRequest(BaseModel):
    role: str = Field(max_length=ROLE_MAX)
    name: Name


@router.post("", status_code=201, responses={403: {"description": "administrators only"}})
def create_key(
    body: KeyRequest, session: SessionDep, actor: Annotated[Actor, Depends(caller("key.create"))]
) -> participants.IssuedKey:
    return participants.issue_for(session=session, actor=actor, role=body.role, name=body.name)


@router.get("", responses={403: {"description": "administrators only"}})
def list_keys(session: SessionDep, actor: Annotated[Actor, Depends(caller("key.list"))]) -> list[participants.KeyInfo]:
    return participants.list_for(session=session, actor=actor)


@router.delete(
    "/{key_id}",
    responses={
        403: {"description": "administrators only"},
        404: {"description": "no such key"},
        409: {"description": "your own key, or the last administrator key: nobody could manage keys after it"},
    },
)
def revoke_key(
    key_id: Annotated[str, Path(**RECORD_ID)],
    session: SessionDep,
    actor: Annotated[Actor, Depends(caller("key.revoke"))],
) -> participants.KeyInfo:
    return participants.revoke_for(session=session, actor=actor, key_id=key_id)
