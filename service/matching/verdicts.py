"""A shipment's verdict: image match, structured checks, a decision with its reasons, cached."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
from PIL import Image
from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models.encoders import photo_gallery
from models.encoders.taxonomy import TAXONOMY
from service.db.tables import Embedding, Examination, Filing, FilingImage, Shipment, utcnow
from service.db.tables import Verdict as VerdictRow
from service.domain import shipments
from service.domain.actors import CARRIER_LIKE
from service.matching import categories, gallery, xray_evidence
from service.matching.checks import Evidence, FilingFacts, run_checks, score
from service.matching.embedder import MODALITY_OF_ROLE, decode, to_vector
from service.matching.familiarity import OTHER
from service.matching.gallery import Vote
from service.matching.matcher import Matcher
from service.matching.xray_evidence import FindingView, GalleryView

NEAR_DUPLICATE = 0.97  # cosine above which two images are treated as the same picture
RESEMBLANCE_REASON_FROM = 0.5  # what the x-ray most resembles is a reason of its own from this reading


class CategoryScore(BaseModel):
    category: str
    score: float


class Neighbour(BaseModel):
    shipment_id: str
    score: float


class FamiliarityView(BaseModel):
    """How near the image lies to images the model is known to handle (service.matching.familiarity)."""

    score: float
    familiar_from: float
    other_modality_score: float | None = None  # the same score against the other modality's references
    # Cosine to the k-th nearest labelled gallery scan in the gallery's space (x-rays), and the cosine
    # from which that makes the x-ray familiar: what all but the familiarity quantile of labelled scans
    # reach to their own k-th nearest labelled neighbour.
    gallery_score: float | None = None
    gallery_familiar_from: float | None = None
    familiar: bool


class ImageMatch(BaseModel):
    probability: float
    cosine: float  # product picture / x-ray
    description_cosine: float | None  # listing description / x-ray, when the listing has one
    xray_looks_like: list[CategoryScore]
    # Items of concern on the scan (knife, handgun, battery pack, pills): the x-ray model's findings
    # head and the labelled gallery's vote, blended by the gallery's weight.
    xray_findings: list[FindingView] = []
    # The nearest labelled scans and the gallery's weight; None in verdicts stored before the gallery.
    xray_gallery: GalleryView | None = None
    listing_category: str | None
    listing_category_evidence: str | None = None  # what named the listing's category
    listing_category_confidence: float | None = None  # its fused probability, where the evidence gives one
    nearest_listings: list[Neighbour]
    nearest_scans: list[Neighbour]
    # None in verdicts stored before familiarity was measured.
    photo_familiarity: FamiliarityView | None = None
    xray_familiarity: FamiliarityView | None = None


class CheckView(BaseModel):
    code: str
    passed: bool
    severity: str
    message: str


class Structured(BaseModel):
    score: float
    checks: list[CheckView]


class ModelInfo(BaseModel):
    name: str
    sha256: str
    calibration_source: str
    calibration_features: list[str]
    mismatch_below: float
    match_from: float
    target_false_alarm_rate: float


class VerdictView(BaseModel):
    shipment_id: str
    decision: str
    risk: float
    reasons: list[str]
    image_match: ImageMatch | None
    structured: Structured
    model: ModelInfo
    computed_at: datetime
    # The filings the verdict read: a stored verdict that misses one (computed while it arrived) is stale.
    filing_ids: list[str] = []


def invalidate(session: Session, shipment_ids: list[str]) -> None:
    """Forget these shipments' stored verdicts (a filing changed their evidence), in the caller's transaction."""
    session.execute(delete(VerdictRow).where(VerdictRow.shipment_id.in_(shipment_ids)))


def invalidate_all(session: Session) -> None:
    """Forget every stored verdict (the decision thresholds changed), in the caller's transaction."""
    session.execute(delete(VerdictRow))


def current(session: Session, matcher: Matcher, shipment_id: str) -> VerdictView:
    """The stored verdict when this model computed it, else a fresh one, stored for next time."""
    shipment = shipments.resolve(session, shipment_id)
    row = session.get(VerdictRow, shipment.id)
    if row is not None and row.model_sha256 == matcher.encoder.identity:
        stored = VerdictView.model_validate(row.payload)
        if stored.filing_ids == filing_ids(session, shipment.id):
            return stored
    view = compute(session, matcher, shipment)
    store(session, view, model_sha256=matcher.encoder.identity)
    return view


def filing_ids(session: Session, shipment_id: str) -> list[str]:
    """The shipment's filings in the order a verdict reads them."""
    return list(
        session.scalars(
            select(Filing.id).where(Filing.shipment_id == shipment_id).order_by(Filing.received_at, Filing.id)
        )
    )


def up_to_date(session: Session, shipment_id: str) -> bool:
    """Whether the shipment has a stored verdict that read every one of its filings."""
    shipment = shipments.resolve(session, shipment_id)
    row = session.get(VerdictRow, shipment.id)
    return row is not None and row.payload.get("filing_ids") == filing_ids(session, shipment.id)


def store(session: Session, view: VerdictView, *, model_sha256: str) -> None:
    """Insert or replace the shipment's stored verdict (in the caller's transaction)."""
    values = dict(
        shipment_id=view.shipment_id,
        model_sha256=model_sha256,
        decision=view.decision,
        risk=view.risk,
        payload=view.model_dump(mode="json"),
        computed_at=view.computed_at,
    )
    # Upsert: a background refresh and an inspector's read may compute the same verdict at once.
    dialect = session.get_bind().dialect.name
    insert: Any = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[dialect](VerdictRow).values(**values)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[VerdictRow.shipment_id], set_={k: v for k, v in values.items() if k != "shipment_id"}
        )
    )
    session.expire_all()


def _images(session: Session, shipment_id: str) -> tuple[list[Filing], dict[str, set[str]], dict[str, str]]:
    """The shipment's filings, the image roles each carried, and the newest image per role."""
    filings = session.scalars(
        select(Filing).where(Filing.shipment_id == shipment_id).order_by(Filing.received_at, Filing.id)
    ).all()
    links = session.execute(
        select(FilingImage.filing_id, FilingImage.role, FilingImage.image_sha256).where(
            FilingImage.filing_id.in_([f.id for f in filings])
        )
    ).all()
    order = {f.id: i for i, f in enumerate(filings)}
    roles: dict[str, set[str]] = defaultdict(set)
    latest: dict[str, str] = {}
    for filing_id, role, sha in sorted(links, key=lambda r: order[r[0]]):
        roles[filing_id].add(role)
        latest[role] = sha
    return list(filings), roles, latest


def image_items(session: Session, shipment_id: str) -> list[tuple[str, str]]:
    """(sha256, modality) of the images a verdict of this shipment will compare."""
    _, _, latest = _images(session, shipments.resolve(session, shipment_id).id)
    return [(sha, MODALITY_OF_ROLE[role]) for role, sha in latest.items()]


def compute(session: Session, matcher: Matcher, shipment: Shipment) -> VerdictView:
    """A fresh verdict from the shipment's filings and images; stores no verdict (the worker stores embeddings)."""
    filings, roles, latest = _images(session, shipment.id)
    evidence = Evidence(filings=[FilingFacts(f.id, f.filer_type, f.payload, frozenset(roles[f.id])) for f in filings])
    vectors = _vectors(session, matcher, latest)

    @cache
    def image(role: str) -> Image.Image:
        # Read and decoded once: the listing classifier and the familiarity check both look at the picture.
        return decode(matcher.embedder.store.read(latest[role]))

    image_match, reasons, named, picture_vector = None, [], None, None
    listing_text = _listing_text(evidence)
    text = matcher.embedder.embed_text(listing_text) if listing_text and matcher.encoder.has_text else None
    if "photo" in vectors or listing_text:
        picture = image("product_picture") if "photo" in vectors else None
        readings = categories.read_listing(
            matcher,
            picture=picture,
            words=listing_text or None,
            photo=vectors.get("photo"),
            text=text,
            session=session,
            picture_sha256=latest.get("product_picture"),
        )
        named, picture_vector = readings.named, readings.picture_vector
        if picture is not None:
            _learn_photo(session, matcher, readings, latest["product_picture"], shipment.id)
        if named is not None:
            evidence.listing_category, evidence.listing_category_evidence = named.category, named.evidence
    evidence.description_similarity = _description_similarity(matcher, evidence)
    seller_ids = {f.seller_id for f in filings if f.seller_id}
    hits: list[Neighbour] = []
    scan_hits: list[Neighbour] = []
    if "photo" in vectors:
        hits = _neighbours(session, matcher, "listings", vectors["photo"], shipment.id)
        evidence.picture_reused_by_sellers = sorted(
            {s for s in _sellers(session, [n.shipment_id for n in hits if n.score >= NEAR_DUPLICATE])} - seller_ids
        )
    if "xray" in vectors:
        scan_hits = _neighbours(session, matcher, "scans", vectors["xray"], shipment.id)
        evidence.xray_reused_in_shipments = [n.shipment_id for n in scan_hits if n.score >= NEAR_DUPLICATE]
    evidence.seller_violations = _violations(session, seller_ids, shipment.id)
    checks = run_checks(evidence)
    structured = score(checks)
    calib = matcher.calibration.for_evidence(description=text is not None)
    air_blocked = any(c.code == "air_scan" and not c.passed for c in checks)
    if "photo" in vectors and "xray" in vectors:
        cosine = float(vectors["photo"] @ vectors["xray"])
        described = float(text @ vectors["xray"]) if text is not None else None
        probability = calib.probability([cosine] if described is None else [cosine, described])
        space, galleried = _embedded(matcher, latest, image, picture_vector)
        vote = matcher.gallery.vote(session, galleried)
        head = matcher.encoder.findings(vectors["xray"]) if matcher.encoder.findings else []
        findings = gallery.findings(vote, head)
        looks_like = [
            CategoryScore(category=c, score=s) for c, s in categories.xray(matcher, vectors["xray"], vote, findings)
        ]
        familiar = _familiarity(session, matcher, space, vote)
        image_match = ImageMatch(
            probability=round(probability, 4),
            cosine=round(cosine, 4),
            description_cosine=None if described is None else round(described, 4),
            xray_looks_like=looks_like,
            xray_findings=xray_evidence.finding_views(findings),
            xray_gallery=xray_evidence.gallery_view(vote),
            listing_category=evidence.listing_category,
            listing_category_evidence=evidence.listing_category_evidence,
            listing_category_confidence=named.confidence if named is not None else None,
            nearest_listings=hits,
            nearest_scans=scan_hits,
            photo_familiarity=familiar["photo"],
            xray_familiarity=familiar["xray"],
        )
        decision = calib.decide(probability)
        reasons += _image_reasons(image_match, decision, calib.mismatch_below, calib.match_from)
        xray_known = familiar["xray"].familiar
        # On real scans the model's P(match) is at chance and the labelled scans are what knows: the image
        # side's risk is the model's and the gallery's contradiction of the listing, blended by the
        # gallery's weight (the model's alone with no gallery, or on an x-ray unlike any it holds).
        contradiction = gallery.contradiction(vote, evidence.listing_category) if xray_known else None
        w = vote.weight if contradiction is not None else 0.0
        image_risk = (1 - w) * (1 - probability) + w * (contradiction or 0.0)
        risk = 1 - (1 - image_risk) * (1 - structured)
        # What the x-ray itself shows means something only on an x-ray like those the model or the
        # gallery knows. An item of concern the listing does not account for then outweighs a good
        # overall likeness: a knife hidden in a laptop leaves most of the scan looking like the laptop.
        alarms = xray_evidence.undeclared(findings, evidence.listing_category) if xray_known else []
        if alarms:
            risk = max(risk, *(f.probability for f in alarms))
            reasons += [xray_evidence.alarm_reason(f, vote) for f in alarms]
        # Labelled scans of another category, read with confidence, contradict the listing: the x-ray
        # does not show what was sold, whatever the model's likeness says.
        contradicted = xray_evidence.disagreement_reason(vote, evidence.listing_category) if xray_known else None
        if contradicted is not None:
            risk = max(risk, contradicted[1])
            if not vote.top or vote.top[0] not in {f.item for f in alarms}:  # an alarm says it already
                reasons.append(contradicted[0])
        # On an image unlike any the model or the gallery knows, the likeness means nothing: the
        # decision is inconclusive unless the x-ray is known and what it shows raised the alarm.
        unfamiliar = [m for m in ("xray", "photo") if not familiar[m].familiar]
        reasons += [_unfamiliar_reason(matcher, m, familiar[m], alarm=bool(alarms)) for m in unfamiliar]
        if alarms or contradicted is not None:
            decision = "mismatch"
        elif unfamiliar:
            decision, risk = "inconclusive", max(risk, 0.5)
    else:
        decision, probability = "insufficient_data", None
        missing = [name for name, key in (("an x-ray", "xray"), ("a product picture", "photo")) if key not in vectors]
        reasons.append(f"no image match yet: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing")
        risk = max(structured, 0.5)
    if air_blocked:
        decision = "insufficient_data"
    failed_high = [c for c in checks if not c.passed and c.severity == "high"]
    if decision == "match" and failed_high:
        decision = "inconclusive"
    reasons += [c.message for c in checks if not c.passed]
    return VerdictView(
        shipment_id=shipment.id,
        decision=decision,
        risk=round(float(risk), 4),
        reasons=reasons,
        image_match=image_match,
        structured=Structured(score=structured, checks=[CheckView(**asdict(c)) for c in checks]),
        model=ModelInfo(
            name=matcher.encoder.name,
            sha256=matcher.encoder.identity,
            calibration_source=calib.source,
            calibration_features=list(calib.features),
            mismatch_below=round(calib.mismatch_below, 4),
            match_from=round(calib.match_from, 4),
            target_false_alarm_rate=calib.target_false_alarm_rate,
        ),
        computed_at=utcnow(),
        filing_ids=[f.id for f in filings],
    )


def _learn_photo(
    session: Session, matcher: Matcher, readings: categories.ListingReadings, sha256: str, shipment_id: str
) -> None:
    """The marketplace's own words label its product picture for the photo gallery, where they are sure
    and the picture does not plainly show something else: the photo-alone reading improves as listings
    arrive (flushed with the caller's transaction)."""
    category = photo_gallery.self_label(readings.words, readings.classified, matcher.settings.photo_gallery_words_from)
    if category is None or readings.words is None:
        return
    origin = f"listing words of shipment {shipment_id} (P {readings.words.probability:.2f})"
    added = matcher.photo_gallery.add(
        session, image_sha256=sha256, category=category, source="listing_words", origin=origin
    )
    if added is not None:
        matcher.photo_gallery.embed_missing(session, [sha256])


def _vectors(session: Session, matcher: Matcher, latest: dict[str, str]) -> dict[str, np.ndarray]:
    items = [(sha, MODALITY_OF_ROLE[role]) for role, sha in latest.items()]
    stored = {
        (row.image_sha256, row.modality): row
        for row in session.scalars(
            select(Embedding).where(
                Embedding.model_sha256 == matcher.encoder.identity,
                Embedding.image_sha256.in_([sha for sha, _ in items]),
            )
        )
    }
    missing = [item for item in items if item not in stored]
    if missing:  # usually embedded already by the post-filing refresh; otherwise wait for the worker
        ids = matcher.embedder.embed_now(missing)
        with matcher.sessions() as fresh:  # a new session sees the worker's commit on every backend
            rows = fresh.scalars(select(Embedding).where(Embedding.id.in_(ids))).all()
        stored.update({(row.image_sha256, row.modality): row for row in rows})
    return {modality: to_vector(stored[(sha, modality)]) for sha, modality in items}


def _embedded(
    matcher: Matcher, latest: dict[str, str], image: Callable[[str], Image.Image], picture: np.ndarray | None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each image in the familiarity space, and the x-ray's gallery vectors: one pass where the networks
    agree (`picture`: the product picture already embedded in the gallery space for the photo gallery)."""
    space = matcher.networks.familiarity
    shared = matcher.gallery.encoder.identity == space.identity
    galleried, scan = gallery.read_scan(matcher.gallery.encoder, image("security_scan"), embedding=shared)
    out = {}
    for role in latest:
        modality = MODALITY_OF_ROLE[role]
        if modality == "xray" and scan is not None:
            out[modality] = scan
        elif shared and modality == "photo" and picture is not None:
            out[modality] = picture
        else:
            out[modality] = space.embed_images(modality, [image(role)])[0]  # type: ignore[arg-type]
    return out, galleried


def _familiarity(
    session: Session, matcher: Matcher, space: dict[str, np.ndarray], vote: Vote
) -> dict[str, FamiliarityView]:
    known = matcher.familiarity
    out = {}
    for modality, vector in space.items():
        score, other = known[modality].score(vector), known[OTHER[modality]].score(vector)
        # Real scans an operator labelled are known images: an x-ray as near its labelled neighbours as
        # labelled scans lie to each other is familiar (GalleryStore.familiar_from).
        near = gallery.nearest_k_score(vote.neighbours, known[modality].k) if modality == "xray" else None
        near_from = matcher.gallery.familiar_from(session, known[modality].k, known[modality].quantile)
        familiar = known[modality].familiar(score, other) or (
            near is not None and near_from is not None and near >= near_from
        )
        out[modality] = FamiliarityView(
            score=round(score, 4),
            familiar_from=round(known[modality].threshold, 4),
            other_modality_score=round(other, 4),
            gallery_score=None if near is None else round(near, 4),
            gallery_familiar_from=None if near is None or near_from is None else round(near_from, 4),
            familiar=familiar,
        )
    return out


def _unfamiliar_reason(matcher: Matcher, modality: str, seen: FamiliarityView, *, alarm: bool) -> str:
    near = None if seen.gallery_score is None else (seen.gallery_score, seen.gallery_familiar_from)
    return matcher.familiarity[modality].reason(
        seen.score, float(seen.other_modality_score or 0.0), alarm=alarm, gallery=near
    )


def _listing_text(evidence: Evidence) -> str:
    market = evidence.by("marketplace")
    return " ".join(str(f.payload.get("enhanced_description", "")) for f in market).strip()


def _description_similarity(matcher: Matcher, evidence: Evidence) -> float | None:
    carrier = evidence.first("enhanced_description", *CARRIER_LIKE)
    market = evidence.first("enhanced_description", "marketplace")
    if not carrier or not market:
        return None
    return round(matcher.networks.sentences.similarity(str(carrier), str(market)), 4)


def _neighbours(session: Session, matcher: Matcher, index: str, vector: np.ndarray, own: str) -> list[Neighbour]:
    k = matcher.settings.neighbours
    hits = matcher.indexes[index].search(vector[None, :], k + 16)[0]
    # One query for every hit: which shipments filed the image behind each embedding.
    shipments_of: dict[int, list[str]] = defaultdict(list)
    for embedding_id, shipment_id in session.execute(
        select(Embedding.id, Filing.shipment_id)
        .join(FilingImage, FilingImage.image_sha256 == Embedding.image_sha256)
        .join(Filing, Filing.id == FilingImage.filing_id)
        .where(Embedding.id.in_([h.id for h in hits]))
    ).all():
        shipments_of[embedding_id].append(shipment_id)
    found: dict[str, float] = {}
    for hit in hits:
        for shipment_id in shipments_of[hit.id]:
            sid = shipments.resolve(session, shipment_id).id
            if sid != own and sid not in found:
                found[sid] = round(hit.score, 4)
    return [Neighbour(shipment_id=s, score=v) for s, v in list(found.items())[:k]]


def _sellers(session: Session, shipment_ids: list[str]) -> set[str]:
    if not shipment_ids:
        return set()
    found = session.scalars(select(Filing.seller_id).where(Filing.shipment_id.in_(shipment_ids))).all()
    return {seller for seller in found if seller}


def _violations(session: Session, seller_ids: set[str], own: str) -> int:
    if not seller_ids:
        return 0
    examined = select(Filing.shipment_id).where(Filing.seller_id.in_(seller_ids), Filing.shipment_id != own)
    return int(
        session.scalar(
            select(func.count())
            .select_from(Examination)
            .where(Examination.shipment_id.in_(examined), Examination.outcome != "contents_match")
        )
        or 0
    )


def _image_reasons(match: ImageMatch, decision: str, low: float, high: float) -> list[str]:
    reasons = []
    if decision == "mismatch":
        reasons.append(
            f"the x-ray does not look like the product picture: P(match) {match.probability:.2f} is below {low:.2f}"
        )
    elif decision == "inconclusive":
        reasons.append(f"P(match) {match.probability:.2f} lies between {low:.2f} and {high:.2f}")
    else:
        reasons.append(f"the x-ray looks like the product picture: P(match) {match.probability:.2f}")
    top = match.xray_looks_like[0] if match.xray_looks_like else None
    if (
        top
        and top.score >= RESEMBLANCE_REASON_FROM
        and match.listing_category
        and top.category not in (match.listing_category, gallery.BENIGN)
    ):
        listed = (
            TAXONOMY[match.listing_category].label if match.listing_category in TAXONOMY else match.listing_category
        )
        reasons.append(
            f"the x-ray most resembles a {top.category.replace('_', ' ')} ({top.score:.2f}); "
            f"the listing shows a {listed}"
        )
    return reasons
