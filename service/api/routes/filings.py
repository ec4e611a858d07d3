"""Transmissions from carriers, brokers, forwarders and marketplaces."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Request, Response, UploadFile

from service.api.deps import RECORD_ID, V1_ERRORS, SessionDep, SettingsDep, StoreDep, caller
from service.api.errors import answers
from service.api.multipart import IntakeRoute
from service.domain import filings
from service.domain.actors import Actor
from service.domain.errors import ImageTooLarge
from service.domain.filing_schema import IMAGE_PARTS
from service.domain.shipments import FilingView
from service.matching import refresh, verdicts
from service.matching.startup import MatcherStartup
from service.settings import ImageLimits

router = APIRouter(prefix="/v1/filings", tags=["filings"], route_class=IntakeRoute, responses=V1_ERRORS)

ERRORS = answers(
    {
        400: "a part sent twice, or a body that is not multipart/form-data",
        403: "the key may not file, or not under this originator code / filer type",
        409: "transmission_id reused for different content",
        413: "the request, an image (bytes or pixels), the filing's JSON or a part sent as text over its limit",
        422: "bad or missing elements, listed by path; or an image that is not JPEG/PNG/TIFF",
    }
)


async def _part_names(request: Request) -> list[str]:
    """Every part's name as sent, repeats included (a form keeps only one value per name)."""
    return [name for name, _ in (await request.form()).multi_items()]


def _parts(uploads: dict[str, UploadFile | None], sent: list[str], limits: ImageLimits) -> dict[str, bytes]:
    parts: dict[str, bytes] = {}
    for part, upload in uploads.items():
        if upload is None:
            continue
        if upload.size is not None and upload.size > limits.max_bytes:
            raise ImageTooLarge(part, f"{upload.size:,} bytes is over the limit of {limits.max_bytes:,} bytes")
        parts[part] = upload.file.read(limits.max_bytes + 1)
    # Unknown parts reach the domain as empty bytes so they are listed with the filing's other problems.
    return parts | {name: b"" for name in set(sent) - {"filing", *IMAGE_PARTS}}


# The `filing` part is read as text and parsed by the domain with its own limits; service.api.openapi documents it
# as the JSON it must hold (CarrierFiling or MarketplaceFiling).
@router.post(
    "",
    status_code=201,
    responses={200: {"description": "a retry: the earlier receipt", "model": filings.Receipt}, **ERRORS},
)
def create_filing(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    store: StoreDep,
    actor: Annotated[Actor, Depends(caller("filing.create"))],
    part_names: Annotated[list[str], Depends(_part_names)],
    filing: Annotated[str, Form(description="the filing, as JSON: a CarrierFiling or a MarketplaceFiling")],
    security_scan: Annotated[UploadFile | None, File(description="x-ray image (carriers)")] = None,
    product_picture: Annotated[UploadFile | None, File(description="product picture (marketplaces)")] = None,
) -> filings.Receipt:
    uploads = {"security_scan": security_scan, "product_picture": product_picture}
    accepted = filings.accept(
        session=session,
        actor=actor,
        filing_json=filing,
        parts=_parts(uploads, part_names, settings.images),
        store=store,
        limits=settings.images,
        on_change=verdicts.invalidate,  # matching on or off: a restarted matcher must not serve a stale verdict
        sent=part_names,
    )
    receipt = accepted.receipt
    startup: MatcherStartup | None = request.app.state.startup
    if startup is not None:
        if startup.matcher is not None and accepted.created:
            refresh.schedule(startup.matcher, accepted.shipment_id)  # queued: embedded and judged on its threads
        lag = startup.verdict_lag()
        if lag > settings.matching.delayed_after_s:
            receipt = receipt.model_copy(update={"verdicts_delayed_s": round(lag)})
    request.app.state.metrics.filings.labels(accepted.filer_type, "created" if accepted.created else "replayed").inc()
    response.status_code = 201 if accepted.created else 200
    return receipt


@router.get("/{filing_id}", responses=answers({404: "no such filing of yours"}))
def read_filing(
    filing_id: Annotated[str, Path(**RECORD_ID)],
    session: SessionDep,
    actor: Annotated[Actor, Depends(caller("filing.read"))],
) -> FilingView:
    return filings.read_own(session=session, actor=actor, filing_id=filing_id)
