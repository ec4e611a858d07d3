"""Original image bytes, for inspectors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from service.api.deps import V1_ERRORS, SessionDep, StoreDep, caller
from service.api.errors import answers
from service.domain import reads
from service.domain.actors import Actor

router = APIRouter(prefix="/v1/images", tags=["images"], responses=V1_ERRORS)


@router.get(
    "/{sha256}",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "image/png": {}, "image/tiff": {}}},
        **answers({403: "inspectors only", 404: "no such image"}),
    },
)
def read_image(
    sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
    session: SessionDep,
    store: StoreDep,
    actor: Annotated[Actor, Depends(caller("image.read"))],
) -> Response:
    found = reads.image(session=session, actor=actor, sha256=sha256, store=store)
    # Content-addressed: the bytes behind a hash never change.
    return Response(found.data, media_type=found.content_type, headers={"Cache-Control": "private, max-age=31536000"})
