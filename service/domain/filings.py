"""Accepting transmissions: validate, authorise, store images, join the shipment, answer a receipt."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import from_json
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db.tables import Filing as FilingRow
from service.db.tables import FilingImage, StoredImage
from service.domain import audit, images, shipments
from service.domain.actors import CARRIER_LIKE, Actor, Principal
from service.domain.errors import (
    DomainError,
    DuplicatePart,
    FieldError,
    FilingInvalid,
    Forbidden,
    NotFound,
    PartTooLarge,
    TransmissionConflict,
)
from service.domain.filing_schema import (
    IMAGE_PARTS,
    MAX_FILING_BYTES,
    MAX_FILING_DEPTH,
    CarrierFiling,
    Filing,
    MarketplaceFiling,
    schema_for,
)
from service.settings import ImageLimits

ATTEMPTS = 3  # concurrent filings for one new tracking number race on its unique row: retry
# Told, inside the filing's transaction, which shipments' evidence a new filing changed (the shipment
# it joined and any it merged into that one), so what was derived from them can be dropped with it.
OnChange = Callable[[Session, list[str]], None]


class Receipt(BaseModel):
    filing_id: str
    shipment_id: str
    received_at: datetime
    warnings: list[str]
    # Set when this server's verdicts run behind intake by more than its bound (SCANMATCH_MATCHING__DELAYED_AFTER_S):
    # how many seconds the oldest verdict still owed has waited. The filing is stored; its verdict follows.
    verdicts_delayed_s: int | None = None


@dataclass(frozen=True)
class Accepted:
    receipt: Receipt
    shipment_id: str  # where the filing is now (the receipt keeps the id it first gave)
    filer_type: str
    created: bool  # False when this was a retry of a transmission already received


def parse(raw: str | bytes, parts: set[str]) -> Filing:
    """Validate a filing's JSON together with the image parts that came with it; list every problem."""
    data = _json(raw)
    if not isinstance(data, dict):
        raise FilingInvalid([FieldError("filing", "must be a JSON object", "object_type")])
    errors: list[FieldError] = []
    model = schema_for(data.get("filer_type"))
    filing: Any = None
    try:
        filing = model.model_validate(data)
    except ValidationError as error:
        errors += [FieldError(".".join(["filing", *map(str, e["loc"])]), e["msg"], e["type"]) for e in error.errors()]
    errors += _part_errors(data, parts)
    if errors:
        raise FilingInvalid(errors)
    assert isinstance(filing, CarrierFiling | MarketplaceFiling)
    return filing


def _json(raw: str | bytes) -> Any:
    """The filing's JSON, bounded in bytes and depth before anything is built from it."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_FILING_BYTES:
        raise PartTooLarge("filing", f"{size:,} bytes is over the limit of {MAX_FILING_BYTES:,} bytes for a filing")
    too_deep = FilingInvalid([FieldError("filing", f"nested deeper than {MAX_FILING_DEPTH} levels", "json_too_deep")])
    try:
        # pydantic-core's parser stops at its own recursion limit, so no input can exhaust the stack here.
        data = from_json(raw, allow_inf_nan=False)
    except ValueError as error:
        if "recursion limit" in str(error):
            raise too_deep from None
        raise FilingInvalid([FieldError("filing", f"not valid JSON: {error}", "json_invalid")]) from None
    if _depth(data) > MAX_FILING_DEPTH:
        raise too_deep
    return data


def _depth(value: Any) -> int:
    """How many arrays and objects deep `value` nests, found without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _part_errors(data: dict[str, Any], parts: set[str]) -> list[FieldError]:
    # Mirrored for OpenAPI in service.api.openapi.PART_RULES; tests/service/test_openapi.py holds the two together.
    filer_type, errors = data.get("filer_type"), []
    for part in sorted(parts - set(IMAGE_PARTS)):
        errors.append(FieldError(part, f"unknown part; image parts are {', '.join(IMAGE_PARTS)}", "extra_part"))
    if filer_type in CARRIER_LIKE:
        if data.get("mode") == "air" and "security_scan" not in parts:
            errors.append(FieldError("security_scan", "mandatory for air shipments: attach the x-ray image", "missing"))
        if "product_picture" in parts:
            errors.append(FieldError("product_picture", "is transmitted by online marketplaces", "not_allowed"))
    if filer_type == "marketplace":
        if "security_scan" in parts:
            errors.append(
                FieldError("security_scan", "is transmitted by carriers, brokers and forwarders", "not_allowed")
            )
        if not ({"product_picture"} & parts or data.get("listing_url") or data.get("enhanced_description")):
            errors.append(
                FieldError(
                    "product_picture",
                    "give at least one of product_picture (image part), listing_url, enhanced_description",
                    "missing",
                )
            )
    return errors


def accept(
    *,
    session: Session,
    actor: Actor,
    filing_json: str | bytes,
    parts: dict[str, bytes],
    store: images.ImageStore,
    limits: ImageLimits,
    on_change: OnChange,
    sent: Sequence[str] = (),
) -> Accepted:
    """Take one transmission: everything in it is stored, with its audit record, or nothing is.

    `sent` names every part as it arrived, repeats included: a part sent twice is refused, as keeping
    either copy would silently drop the other.
    """
    action = "filing.create"
    principal = actor.principal
    if principal is None or not principal.is_filer:
        raise audit.refuse(
            session, Forbidden("only carriers, brokers, forwarders and marketplaces file"), actor=actor, action=action
        )
    try:
        _once_each(sent)
        filing = parse(filing_json, set(parts))
        _authorise(principal, filing)
        infos = {part: images.inspect(part, data, limits) for part, data in parts.items()}
    except DomainError as error:
        raise audit.refuse(session, error, actor=actor, action=action) from None
    for part, info in infos.items():
        store.put(info.sha256, parts[part])
    for attempt in range(ATTEMPTS):
        try:
            return _record(session, actor=actor, principal=principal, filing=filing, infos=infos, on_change=on_change)
        except IntegrityError:
            session.rollback()
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _once_each(sent: Sequence[str]) -> None:
    repeated = {name: n for name, n in Counter(sent).items() if n > 1}
    if repeated:
        name, n = next(iter(repeated.items()))
        others = f" (and {', '.join(sorted(set(repeated) - {name}))})" if len(repeated) > 1 else ""
        raise DuplicatePart(name, f"sent {n} times{others}; send each part once")


def _authorise(principal: Principal, filing: Filing) -> None:
    if filing.originator_code != principal.originator_code:
        raise Forbidden(f"originator_code {filing.originator_code!r} does not belong to this key")
    if filing.filer_type != principal.role:
        raise Forbidden(f"this key files as {principal.role}, not as {filing.filer_type}")


def _record(
    session: Session,
    *,
    actor: Actor,
    principal: Principal,
    filing: Filing,
    infos: dict[str, images.ImageInfo],
    on_change: OnChange,
) -> Accepted:
    payload = filing.model_dump(mode="json", exclude_none=True)
    image_refs = {part: info.sha256 for part, info in infos.items()}
    if filing.transmission_id is not None:
        earlier = session.scalar(
            select(FilingRow).where(
                FilingRow.participant_id == principal.participant_id,
                FilingRow.transmission_id == filing.transmission_id,
            )
        )
        if earlier is not None:
            return _replay(session, actor=actor, earlier=earlier, payload=payload, image_refs=image_refs)
    shipment, merged = shipments.attach(session, filing.identifiers)
    on_change(session, [shipment.id, *merged])
    row = FilingRow(
        id=f"fil_{secrets.token_hex(10)}",
        shipment_id=shipment.id,
        receipt_shipment_id=shipment.id,
        participant_id=principal.participant_id,
        filer_type=filing.filer_type,
        mode=filing.mode,
        transmission_id=filing.transmission_id,
        seller_id=filing.seller_id,
        payload=payload,
        elements=sorted([*payload, *image_refs]),
        warnings=_warnings(filing, set(infos), shipment.id, merged),
    )
    session.add(row)
    for info in infos.values():
        if session.get(StoredImage, info.sha256) is None:
            session.add(StoredImage(**vars(info)))
    session.flush()
    session.add_all(FilingImage(filing_id=row.id, role=part, image_sha256=sha) for part, sha in image_refs.items())
    audit.record(session, actor=actor, action="filing.create", outcome="ok", shipment_id=shipment.id, filing_id=row.id)
    session.commit()
    return Accepted(receipt=_receipt(row), shipment_id=row.shipment_id, filer_type=row.filer_type, created=True)


def _replay(
    session: Session, *, actor: Actor, earlier: FilingRow, payload: dict[str, Any], image_refs: dict[str, str]
) -> Accepted:
    stored_refs = dict(
        session.execute(
            select(FilingImage.role, FilingImage.image_sha256).where(FilingImage.filing_id == earlier.id)
        ).all()
    )
    if earlier.payload != payload or stored_refs != image_refs:
        raise audit.refuse(
            session,
            TransmissionConflict(
                f"transmission_id {earlier.transmission_id!r} was already used for a different filing "
                f"({earlier.id}); use a new transmission_id for new content"
            ),
            actor=actor,
            action="filing.create",
            filing_id=earlier.id,
        )
    audit.record(
        session,
        actor=actor,
        action="filing.create",
        outcome="replayed",
        shipment_id=earlier.shipment_id,
        filing_id=earlier.id,
    )
    session.commit()
    return Accepted(
        receipt=_receipt(earlier), shipment_id=earlier.shipment_id, filer_type=earlier.filer_type, created=False
    )


def _warnings(filing: Filing, parts: set[str], shipment_id: str, merged: list[str]) -> list[str]:
    notes = []
    ids = filing.identifiers
    if not (ids.tracking_number or ids.house_bill):
        notes.append(
            "only a master bill was given: this filing forms its own shipment within the consolidation; "
            "send the tracking number or house bill so later filings join it"
        )
    if filing.filer_type in CARRIER_LIKE and "security_scan" not in parts:
        notes.append("no security_scan: the image match cannot run until an x-ray arrives for this shipment")
    if filing.filer_type == "marketplace" and "product_picture" not in parts:
        notes.append("no product_picture: the image match cannot run until a product picture arrives")
    if merged:
        notes.append(f"this filing linked shipments {', '.join(merged)} to {shipment_id}; they are now one")
    return notes


def _receipt(row: FilingRow) -> Receipt:
    return Receipt(
        filing_id=row.id, shipment_id=row.receipt_shipment_id, received_at=row.received_at, warnings=row.warnings
    )


def read_own(*, session: Session, actor: Actor, filing_id: str) -> shipments.FilingView:
    """A filer reads back its own filing; any other caller learns nothing, not even that it exists."""
    row = session.get(FilingRow, filing_id)
    mine = row is not None and actor.principal is not None and row.participant_id == actor.principal.participant_id
    if row is None or not mine:
        raise audit.refuse(
            session, NotFound(f"no filing {filing_id} of yours"), actor=actor, action="filing.read", filing_id=filing_id
        )
    audit.record(
        session, actor=actor, action="filing.read", outcome="ok", shipment_id=row.shipment_id, filing_id=row.id
    )
    session.commit()
    return shipments.filing_view(session, row)
