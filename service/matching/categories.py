"""Which category of goods an image shows: a listing's by its words, the ImageNet classifier, the labelled
listing photos it resembles or the text tower's category names (zero-shot); an x-ray's by those names
and the labelled scans it resembles in the gallery."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.special import softmax
from sqlalchemy.orm import Session

from models.encoders.listing_words import WordsReading
from models.encoders.photo_categories import GalleryCategory, NamedCategory, PhotoCategory, name_listing
from service.matching import gallery
from service.matching.gallery import GalleryFinding, Vote
from service.matching.matcher import Matcher

ZERO_SHOT_TEMPERATURE = 50.0  # cosine differences of a few hundredths should separate categories


def zero_shot(matcher: Matcher, vectors: np.ndarray, k: int = 3) -> list[list[tuple[str, float]]]:
    """The k most likely categories for each embedding, from the text tower's category names."""
    if matcher.prompts is None:
        return [[] for _ in range(len(vectors))]
    logits = ZERO_SHOT_TEMPERATURE * (np.asarray(vectors) @ matcher.prompts.T)
    probs = softmax(logits, axis=1)
    top = np.argsort(-probs, axis=1)[:, :k]
    return [[(matcher.categories[j], float(p[j])) for j in row] for p, row in zip(probs, top, strict=True)]


@dataclass(frozen=True)
class ListingReadings:
    """Every reading of a listing's category, and the category they name together."""

    named: NamedCategory | None
    words: WordsReading | None = None
    classified: PhotoCategory | None = None
    gallery: GalleryCategory | None = None
    picture_vector: np.ndarray | None = None  # the picture in the gallery space, where it was embedded


def listing(
    matcher: Matcher,
    *,
    picture: Image.Image | None,
    words: str | None,
    photo: np.ndarray | None,
    text: np.ndarray | None,
) -> NamedCategory | None:
    """The listing's category and what named it, without the photo gallery (`read_listing`)."""
    return read_listing(matcher, picture=picture, words=words, photo=photo, text=text).named


def read_listing(
    matcher: Matcher,
    *,
    picture: Image.Image | None,
    words: str | None,
    photo: np.ndarray | None,
    text: np.ndarray | None,
    session: Session | None = None,
    picture_sha256: str | None = None,
) -> ListingReadings:
    """The listing's category and what named it: its own words, the ImageNet classifier's reading of the
    product picture and, given a session, the labelled listing photos nearest the picture (never the
    picture itself), fused; without words or labelled photos, the classifier where it is sure, else the
    category name the picture and text embeddings are closest to (`name_listing`)."""
    classifier, reader = matcher.networks.photo_categories, matcher.networks.listing_words
    classified = classifier([picture])[0] if classifier is not None and picture is not None else None
    read = reader([words])[0] if reader is not None and words else None
    near = vector = None
    if session is not None and picture is not None and matcher.photo_gallery.counts(session):
        store = matcher.photo_gallery
        vector = gallery.embed(store.encoder, [picture], "photo")[0][0]
        near = store.reading(session, vector, exclude=picture_sha256)
    named = name_listing(
        classified=classified,
        trained=_trained(matcher, photo, text),
        photo=photo is not None,
        text=text is not None,
        words=read,
        gallery=near,
    )
    return ListingReadings(named, read, classified, near, vector)


def _trained(matcher: Matcher, photo: np.ndarray | None, text: np.ndarray | None) -> str | None:
    if matcher.prompts is None:
        return None
    scores = np.zeros(len(matcher.categories))
    for vector in (v for v in (photo, text) if v is not None):
        scores += vector @ matcher.prompts.T
    return matcher.categories[int(np.argmax(scores))] if scores.any() else None


def xray(
    matcher: Matcher, vector: np.ndarray, vote: Vote, findings: Sequence[GalleryFinding] = ()
) -> list[tuple[str, float]]:
    """The three categories an x-ray most resembles: zero-shot votes and the labelled gallery's, blended by
    how much labelled evidence the gallery holds (service.matching.gallery); an item of concern its
    `findings` say is absent is not named by the zero-shot reading."""
    absent = {f.item for f in findings if not f.present}
    return gallery.looks_like(vote, zero_shot(matcher, vector[None, :], k=5)[0], ruled_out=absent)
