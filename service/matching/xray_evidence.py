"""What a verdict says the x-ray shows: the model's findings blended with the labelled gallery's vote,
the nearest labelled scans, and the reasons they give (undeclared items, a contradicted listing)."""

from __future__ import annotations

from pydantic import BaseModel

from models.encoders.taxonomy import TAXONOMY
from service.matching import gallery
from service.matching.gallery import GalleryFinding, Vote


class FindingView(BaseModel):
    item: str
    probability: float  # the model's and the gallery's, blended by the gallery's weight
    threshold: float
    present: bool
    model_probability: float | None = None  # the x-ray model's findings head alone
    model_threshold: float | None = None
    gallery_share: float | None = None  # share of the nearest labelled scans' vote on scans holding it


class GalleryNeighbourView(BaseModel):
    """A labelled image near the x-ray (GET /v1/images/{image_sha256} shows it)."""

    gallery_ids: list[int]
    image_sha256: str
    categories: list[str]
    similarity: float


class GalleryView(BaseModel):
    labelled: int  # labelled images in the gallery (per category, summed)
    # The gallery's say in looks-like: n / (n + gallery_prior) for the n labelled scans of the category
    # it reads (each finding is weighted by its own item's labelled scans).
    weight: float
    category: str | None = None  # the category the labelled scans read the x-ray as
    share: float | None = None  # that category's share of their vote
    nearest: list[GalleryNeighbourView]


def finding_views(findings: list[GalleryFinding]) -> list[FindingView]:
    return [
        FindingView(
            item=f.item,
            probability=f.probability,
            threshold=f.threshold,
            present=f.present,
            model_probability=f.head.probability if f.head else None,
            model_threshold=f.head.threshold if f.head else None,
            gallery_share=f.gallery_share,
        )
        for f in findings
    ]


def gallery_view(vote: Vote) -> GalleryView:
    return GalleryView(
        labelled=sum(vote.counts.values()),
        weight=round(vote.weight, 4),
        category=vote.top[0] if vote.top else None,
        share=round(vote.top[1], 4) if vote.top else None,
        nearest=[
            GalleryNeighbourView(
                gallery_ids=list(n.gallery_ids),
                image_sha256=n.image_sha256,
                categories=list(n.categories),
                similarity=n.similarity,
            )
            for n in vote.nearest
        ],
    )


def undeclared(findings: list[GalleryFinding], listing_category: str | None) -> list[GalleryFinding]:
    """Items of concern present on the scan that the listing does not account for."""
    return [f for f in findings if f.present and f.item != listing_category]


def alarm_reason(finding: GalleryFinding, vote: Vote) -> str:
    """Why an undeclared item raises the alarm, naming the labelled scans holding it when they carry the vote."""
    numbers = f"P {finding.probability:.2f}, alarm from {finding.threshold:.2f}"
    holding = [n.similarity for n in vote.nearest if finding.item in n.categories]
    resembles = (
        f"the x-ray resembles {len(holding)} of its {len(vote.nearest)} nearest labelled scans of "
        f"{plural(finding.item)} (similarity {max(holding):.2f} to {min(holding):.2f}; "
        f"{vote.counts.get(finding.item, 0)} labelled in the gallery)"
        if holding and finding.gallery_share >= gallery.ALARM_SHARE
        else None
    )
    if finding.by_gallery and resembles:
        return f"{resembles}: {numbers}; the listing does not declare {item_phrase(finding.item)}"
    shows = f"the x-ray shows {item_phrase(finding.item)} ({numbers}) that the listing does not declare"
    return f"{shows}; {resembles}" if resembles else shows


def disagreement_reason(vote: Vote, listing_category: str | None) -> tuple[str, float] | None:
    """(reason, risk) when the gallery reads the x-ray as another category than the listing's, far enough
    to contradict it."""
    found = gallery.disagreement(vote, listing_category)
    if found is None or listing_category is None:
        return None
    category, share, risk = found
    what = "bags holding none of the items of concern" if category == gallery.BENIGN else plural(category)
    reason = (
        f"the x-ray most resembles labelled scans of {what} ({vote.among(category)} of its "
        f"{len(vote.nearest)} nearest, {share:.0%} of the vote, {vote.counts.get(category, 0)} labelled); "
        f"the listing shows {item_phrase(listing_category)}"
    )
    return reason, risk


def label(item: str) -> str:
    return TAXONOMY[item].label if item in TAXONOMY else item.replace("_", " ")


def item_phrase(item: str) -> str:
    text = label(item)
    if text.endswith("s"):  # "pills"
        return text
    return f"an {text}" if text[:1] in "aeiou" else f"a {text}"


def plural(item: str) -> str:
    text = label(item)
    if text.endswith("s"):
        return text
    if text.endswith("fe"):  # knife
        return text[:-2] + "ves"
    return text + "es" if text.endswith(("ch", "sh", "x")) else text + "s"
