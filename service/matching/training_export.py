"""The operator's examined shipments as paired training data: a `manifest.jsonl` in the format of
`datasets/README.md` (models.generator.manifest.ManifestRecord) and the images it points to, for
`python -m models.train` to fine-tune on (`train_manifest` in its config).

One line per examined shipment that has both a product picture and an x-ray:
- `label`: `match` when the examination found `contents_match`, else `mismatch`;
- `category`: what the listing declared, as its stored verdict named it (`image_match.listing_category`);
  for `contents_match` the examination's category when the inspector gave one;
- `contents`: what the parcel held as far as the examination says: the declared category for
  `contents_match` and `quantity_mismatch`; the declared category and the found item for
  `prohibited_item` and `undeclared_items` (hidden among the goods); the found category for
  `contents_mismatch`. A mismatch whose examination names nothing found is left out: its contents are
  not known, and training would read an empty parcel;
- `title`: the marketplace's enhanced description (what the service reads as the listing's words),
  `description`: the carrier's; `hts`, `declared_weight_kg`, `declared_value` (USD listings) from the filings.
Images are written as the service decodes them (RGB PNG, 16-bit scans stretched), named by sha256.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from models.generator.manifest import ManifestRecord, dumps
from service.db.tables import Examination, Filing, FilingImage
from service.db.tables import Verdict as VerdictRow
from service.domain.images import ImageStore
from service.matching.embedder import decode

MANIFEST = "manifest.jsonl"
HIDDEN_AMONG_GOODS = ("prohibited_item", "undeclared_items")


@dataclass
class ExportReport:
    written: int = 0
    by_label: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> shipments

    def lines(self, out: Path) -> list[str]:
        found = [f"wrote {self.written} examined shipment(s) to {out / MANIFEST}"]
        found += [f"  {label}: {n}" for label, n in sorted(self.by_label.items())]
        found += [f"skipped {n}: {reason}" for reason, n in sorted(self.skipped.items())]
        return found


def _latest_images(session: Session, shipment_id: str) -> dict[str, str]:
    rows = session.execute(
        select(FilingImage.role, FilingImage.image_sha256)
        .join(Filing, Filing.id == FilingImage.filing_id)
        .where(Filing.shipment_id == shipment_id)
        .order_by(Filing.received_at)
    ).all()
    return {role: sha for role, sha in rows}  # the newest image of each role wins


def _payloads(session: Session, shipment_id: str) -> dict[str, dict[str, Any]]:
    rows = session.execute(
        select(Filing.filer_type, Filing.payload).where(Filing.shipment_id == shipment_id).order_by(Filing.received_at)
    ).all()
    marketplace = [p for kind, p in rows if kind == "marketplace"]
    carrier = [p for kind, p in rows if kind != "marketplace"]
    return {"marketplace": marketplace[-1] if marketplace else {}, "carrier": carrier[-1] if carrier else {}}


def _declared(session: Session, examination: Examination) -> str | None:
    if examination.outcome == "contents_match" and examination.found_category:
        return examination.found_category
    verdict = session.get(VerdictRow, examination.shipment_id)
    image_match = (verdict.payload.get("image_match") or {}) if verdict is not None else {}
    return image_match.get("listing_category")


def _contents(outcome: str, declared: str, found: str | None) -> list[str] | None:
    if outcome in ("contents_match", "quantity_mismatch"):
        return [declared]
    if found is None:
        return None
    if outcome in HIDDEN_AMONG_GOODS:
        return [declared, found]
    return [found]


def _number(value: Any) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 0.0


def _record(session: Session, examination: Examination, images: dict[str, str]) -> ManifestRecord | str:
    """The manifest line of one examination, or why there is none."""
    if "product_picture" not in images or "security_scan" not in images:
        return "no product picture and x-ray both"
    declared = _declared(session, examination)
    if not declared:
        return "no declared category (no stored verdict named the listing's; open its verdict and export again)"
    contents = _contents(examination.outcome, declared, examination.found_category)
    if contents is None:
        return "a mismatch whose examination names nothing found (contents unknown)"
    filed = _payloads(session, examination.shipment_id)
    listing, carrier = filed["marketplace"], filed["carrier"]
    price = listing.get("listed_price") or {}
    return ManifestRecord(
        id=f"examination-{examination.id}",
        category=declared,
        scenario="real",
        label="match" if examination.outcome == "contents_match" else "mismatch",
        photo=f"images/{images['product_picture']}.png",
        xray=f"images/{images['security_scan']}.png",
        title=str(listing.get("enhanced_description") or ""),
        description=str(carrier.get("enhanced_description") or ""),
        hts=str(listing.get("hts_number") or carrier.get("hts_number") or ""),
        declared_weight_kg=_number(listing.get("weight_kg") or carrier.get("weight_kg")),
        declared_value=_number(price.get("amount")) if price.get("currency") == "USD" else 0.0,
        contents=contents,
    )


def export_examined(session: Session, store: ImageStore, out: Path, *, progress: bool = False) -> ExportReport:
    """Write `out/manifest.jsonl` and `out/images/` from every examined shipment (the latest examination of each)."""
    latest: dict[str, Examination] = {}
    for examination in session.scalars(select(Examination).order_by(Examination.examined_at, Examination.id)):
        latest[examination.shipment_id] = examination
    report = ExportReport()
    (out / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for examination in tqdm(latest.values(), desc="examined shipments", unit="shipment", disable=not progress):
        images = _latest_images(session, examination.shipment_id)
        made = _record(session, examination, images)
        if isinstance(made, str):
            report.skipped[made] += 1
            continue
        for role in ("product_picture", "security_scan"):
            target = out / "images" / f"{images[role]}.png"
            if not target.exists():
                decode(store.read(images[role])).save(target, format="PNG")
        lines.append(dumps(made))
        report.written += 1
        report.by_label[made.label] += 1
    (out / MANIFEST).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return report
