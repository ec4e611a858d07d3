"""The labelled listing-photo gallery in verdicts: a photo-alone listing of a category the ImageNet classifier
has no class for is named by imported labelled photos; listings whose words are sure label their own photos;
examined matches label theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from models.generator.synthetic import generate_shipment
from service.db.tables import GalleryPhoto
from service.matching import gallery_store, verdicts
from service.matching.gallery_import import Importer
from service.matching.matcher import Matcher
from service.settings import Settings
from tests.service.matching.test_verdicts import encoded, file_shipment, verdict
from tests.support import auth, carrier_filing, marketplace_filing, multipart

PHOTO_SEED = 37  # no training, evaluation, calibration or other test stream
CATEGORIES = ("headphones", "watch", "sneakers")  # ImageNet has no class for headphones


def import_labelled_photos(matcher: Matcher, root: Path, per_category: int = 6) -> None:
    """Generated product photos as an operator's labelled listing photos, a folder per category."""
    for category in CATEGORIES:
        (root / category).mkdir(parents=True)
        for index in range(per_category):
            photo = generate_shipment(seed=PHOTO_SEED, index=index, scenario="match", category=category).photo
            photo.save(root / category / f"{index}.png")
    with matcher.sessions() as session:
        importer = Importer(
            session=session,
            store=matcher.embedder.store,
            limits=Settings().images,
            add=gallery_store.add_photo,
            mapping={},
            dry_run=False,
            kind=gallery_store.PHOTOS,
        )
        assert sum(importer.run(root, "folders").added.values()) == per_category * len(CATEGORIES)
        verdicts.invalidate_all(session)
        session.commit()
    assert matcher.photo_gallery.reconcile()["photo_gallery_embedded"] == per_category * len(CATEGORIES)


def test_a_photo_alone_listing_is_named_by_the_labelled_photos_and_an_examined_match_joins_them(
    matching_client: TestClient, keys: Any, tmp_path: Path
) -> None:
    client, inspector = matching_client, keys("inspector")
    matcher: Matcher = client.app.state.matcher  # type: ignore[attr-defined]
    import_labelled_photos(matcher, tmp_path / "photos")
    sold = generate_shipment(seed=PHOTO_SEED, index=50, scenario="match", category="headphones")
    shop, courier = keys("marketplace", "Shop"), keys("carrier", "Courier")
    listing = marketplace_filing(shop.originator_code, tracking="T-PHOTO")  # a picture, no words
    sent = client.post(
        "/v1/filings", headers=auth(shop), files=multipart(listing, product_picture=encoded(sold.photo, "JPEG"))
    )
    assert sent.status_code == 201, sent.text
    manifest = carrier_filing(courier.originator_code, tracking="T-PHOTO")
    scanned = client.post(
        "/v1/filings", headers=auth(courier), files=multipart(manifest, security_scan=encoded(sold.xray, "PNG"))
    )
    assert scanned.status_code == 201, scanned.text
    shipment_id = sent.json()["shipment_id"]
    found = verdict(client, inspector, shipment_id)["image_match"]
    assert found["listing_category"] == "headphones", found["listing_category_evidence"]
    assert " of its 10 nearest labelled listing photos are headphones" in found["listing_category_evidence"]
    # 18 labelled photos weigh 18 / (18 + 20); the classifier's stray class barely counts against them.
    assert 0.4 < found["listing_category_confidence"] < 1

    examined = client.post(
        f"/v1/shipments/{shipment_id}/examinations", headers=auth(inspector), json={"outcome": "contents_match"}
    )
    assert examined.status_code == 201, examined.text
    with matcher.sessions() as session:
        row = session.scalars(select(GalleryPhoto).where(GalleryPhoto.source == "examination")).one()
        assert row.category == "headphones" and row.examination_id == examined.json()["examination_id"]


def test_a_listing_whose_words_are_sure_labels_its_own_photo(matching_client: TestClient, keys: Any) -> None:
    client, inspector = matching_client, keys("inspector")
    matcher: Matcher = client.app.state.matcher  # type: ignore[attr-defined]
    sold = generate_shipment(seed=PHOTO_SEED, index=0, scenario="match", category="headphones")
    shipment_id = file_shipment(client, keys, sold, "T-WORDS")
    first = verdict(client, inspector, shipment_id)["image_match"]
    assert first["listing_category"] == "headphones"
    with matcher.sessions() as session:
        (row,) = session.scalars(select(GalleryPhoto)).all()
        assert (row.category, row.source) == ("headphones", "listing_words") and "P 1.00" in row.origin
        # Embedded at once; the index follows the database (a concurrent verdict may rebuild it first).
        assert matcher.photo_gallery.missing(session) == []
        matcher.photo_gallery.sync(session)
        assert matcher.photo_gallery.index.size == 1
    # Its own photo is no evidence for itself: recomputed, the verdict does not cite the gallery.
    with matcher.sessions() as session:
        verdicts.invalidate_all(session)
        session.commit()
    again = verdict(client, inspector, shipment_id)["image_match"]
    assert "labelled listing photos" not in again["listing_category_evidence"]
