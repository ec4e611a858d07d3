"""The inspector console's pages: each one a domain call (the JSON API's own) rendered as HTML."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, get_args

from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from models.encoders.taxonomy import TAXONOMY
from service.api.console import auth, pages, plots
from service.api.console.auth import Visitor
from service.api.console.images import for_browser
from service.api.deps import MatcherDep, SessionDep, SettingsDep, StoreDep
from service.domain import console_sessions, reads
from service.domain.access import INSPECTORS
from service.domain.limits import IDENT_MAX, NO_CONTROL
from service.matching import checks, inspection
from service.matching.examinations import ExaminationIn, Outcome
from service.matching.gallery import THREATS
from service.matching.overlays import Overlay
from service.matching.queue import DECISIONS

router = APIRouter(prefix="/console", include_in_schema=False)
FOUND_CATEGORIES = sorted({*TAXONOMY, *THREATS})
SHIPMENT_ID = Path(pattern=r"^shp_[0-9a-f]{1,40}$")


class ExaminationForm(ExaminationIn):
    csrf_token: str = ""


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("")
def home(visitor: Annotated[Visitor, Depends(auth.visitor("console.home"))]) -> RedirectResponse:
    return see_other("/console/queue" if visitor.actor.has_role(*INSPECTORS) else "/console/admin")


@router.get("/sign-in")
def sign_in_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    token = auth.sign_in_token(request)
    response = pages.render(request, "sign_in.html", visitor=None, sign_in_token=token, problem=None)
    auth.set_sign_in_cookie(response, token, secure=settings.console.secure_cookie)
    return response


@router.post("/sign-in")
def sign_in(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    key: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    auth.require_sign_in_csrf(session, request, csrf_token)
    opened = console_sessions.sign_in(
        session=session,
        key=key,
        lifetime=timedelta(hours=settings.console.session_hours),
        request_id=correlation_id.get(),
    )
    response = see_other("/console")
    auth.set_session_cookie(response, opened.token, opened.expires_at, secure=settings.console.secure_cookie)
    return response


@router.post("/sign-out")
def sign_out(
    session: SessionDep,
    visitor: Annotated[Visitor, Depends(auth.visitor("console.sign_out"))],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    auth.require_csrf(session, visitor, csrf_token, action="console.sign_out")
    console_sessions.sign_out(session=session, token=visitor.session_token, request_id=visitor.actor.request_id)
    response = see_other("/console/sign-in")
    auth.clear_session_cookie(response)
    return response


@router.get("/queue")
def queue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    matcher: MatcherDep,
    visitor: Annotated[Visitor, Depends(auth.visitor("shipment.queue"))],
    decision: Annotated[str, Query(max_length=40)] = "",
    check: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    recorded: Annotated[str, Query(max_length=60)] = "",
) -> HTMLResponse:
    size = settings.console.page_size
    items = inspection.queue(
        session=session,
        actor=visitor.actor,
        matcher=matcher,
        pending_only=True,
        limit=size + 1,  # one more tells whether there is a next page
        offset=(page - 1) * size,
        decision=decision or None,
        failed_check=check or None,
    )
    return pages.render(
        request,
        "queue.html",
        visitor=visitor,
        items=items[:size],
        more=len(items) > size,
        page=page,
        decision=decision,
        check=check,
        decisions=DECISIONS,
        checks=checks.CODES,
        recorded=recorded,
        first=(page - 1) * size + 1,
    )


@router.get("/find")
def find(
    request: Request,
    session: SessionDep,
    visitor: Annotated[Visitor, Depends(auth.visitor("shipment.search"))],
    q: Annotated[str, Query(max_length=IDENT_MAX, pattern=NO_CONTROL)] = "",
) -> Response:
    """A shipment by tracking number, house bill or master bill (a master bill may name several)."""
    q = q.strip()
    found = reads.search(session=session, actor=visitor.actor, tracking_number=q, house_bill=q, master_bill=q)
    if len(found) == 1:
        return see_other(f"/console/shipments/{found[0].shipment_id}")
    return pages.render(request, "found.html", visitor=visitor, q=q, found=found)


@router.get("/shipments/{shipment_id}")
def shipment(
    request: Request,
    session: SessionDep,
    matcher: MatcherDep,
    visitor: Annotated[Visitor, Depends(auth.visitor("shipment.read"))],
    shipment_id: Annotated[str, SHIPMENT_ID],
    recorded: Annotated[str, Query(max_length=60)] = "",
) -> HTMLResponse:
    view = reads.shipment(session=session, actor=visitor.actor, shipment_id=shipment_id)
    verdict = inspection.verdict(session=session, actor=visitor.actor, matcher=matcher, shipment_id=view.shipment_id)
    examined = inspection.examinations_of(session=session, actor=visitor.actor, shipment_id=view.shipment_id)
    images = {image.role: image for filing in view.filings for image in filing.images}  # the newest per role
    return pages.render(
        request,
        "shipment.html",
        visitor=visitor,
        shipment=view,
        verdict=verdict,
        picture=images.get("product_picture"),
        xray=images.get("security_scan"),
        checks=pages.failed_first(verdict.structured.checks),
        elements=pages.flatten,
        outcomes=get_args(Outcome),
        found_categories=FOUND_CATEGORIES,
        recorded=recorded,
        examinations=examined,
    )


@router.get("/shipments/{shipment_id}/where-to-look")
def where_to_look(
    session: SessionDep,
    matcher: MatcherDep,
    visitor: Annotated[Visitor, Depends(auth.visitor("overlay.read"))],
    shipment_id: Annotated[str, SHIPMENT_ID],
) -> Overlay:
    """The x-ray viewer's where-to-look layer (service.matching.where_to_look), as JSON the viewer draws."""
    return inspection.where_to_look(session=session, actor=visitor.actor, matcher=matcher, shipment_id=shipment_id)


@router.post("/shipments/{shipment_id}/examinations")
def examine(
    session: SessionDep,
    matcher: MatcherDep,
    visitor: Annotated[Visitor, Depends(auth.visitor("examination.create"))],
    shipment_id: Annotated[str, SHIPMENT_ID],
    form: Annotated[ExaminationForm, Form()],
) -> RedirectResponse:
    """Record what the examination found, then go on to the next shipment in the queue."""
    auth.require_csrf(session, visitor, form.csrf_token, action="examination.create", shipment_id=shipment_id)
    done = inspection.examine(
        session=session,
        actor=visitor.actor,
        matcher=matcher,
        shipment_id=shipment_id,
        examination=ExaminationIn.model_validate(form.model_dump(exclude={"csrf_token"})),
    )
    following = inspection.queue(session=session, actor=visitor.actor, matcher=matcher, pending_only=True, limit=1)
    if following:
        return see_other(f"/console/shipments/{following[0].shipment_id}?recorded={done.shipment_id}")
    return see_other(f"/console/queue?recorded={done.shipment_id}")


@router.get("/images/{sha256}")
def image(
    session: SessionDep,
    store: StoreDep,
    visitor: Annotated[Visitor, Depends(auth.visitor("image.read"))],
    sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
) -> Response:
    found = reads.image(session=session, actor=visitor.actor, sha256=sha256, store=store)
    data, content_type = for_browser(found.data, found.content_type)
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=31536000"})


@router.get("/stats")
def stats(
    request: Request, session: SessionDep, visitor: Annotated[Visitor, Depends(auth.visitor("stats.read"))]
) -> HTMLResponse:
    """Verdict precision and recall against examinations, and decisions over time (the API's /v1/stats)."""
    figures = inspection.stats(session=session, actor=visitor.actor)
    timeline = figures.over_time
    return pages.render(
        request,
        "stats.html",
        visitor=visitor,
        stats=figures,
        decisions_plot=plots.stacked_bars(
            [(b.start, b.decisions) for b in timeline.buckets],
            pages.DECISION_SERIES,
            bucket_seconds=timeline.bucket_seconds,
            unit="shipments",
        ),
        examinations_plot=plots.stacked_bars(
            [(b.start, b.examinations) for b in timeline.buckets],
            pages.OUTCOME_SERIES,
            bucket_seconds=timeline.bucket_seconds,
            unit="examinations",
        ),
        bucket=pages.duration(timeline.bucket_seconds),
    )
