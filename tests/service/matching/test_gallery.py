"""The labelled gallery in verdicts: a scan like labelled threats is flagged through it; an x-ray unlike
anything the model or the gallery knows is inconclusive; the vote itself."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from models.generator.synthetic import generate_shipment
from service.api.app import create_app
from service.matching import gallery, gallery_store, verdicts
from service.matching.gallery import Neighbour
from service.matching.gallery_import import Importer
from service.matching.matcher import Matcher, Networks
from service.settings import Settings
from tests.service.matching.test_verdicts import encoded, file_shipment, first, verdict
from tests.support import auth

GALLERY_SEED = 29  # no training, evaluation, calibration or other test stream


def test_the_vote_reads_the_nearest_labelled_scans_weighted_by_their_evidence() -> None:
    near = [
        Neighbour("a", (1,), ("handgun",), 0.90),
        Neighbour("b", (2, 3), ("handgun", "laptop"), 0.88),
        Neighbour("c", (4,), ("benign",), 0.70),
    ]
    vote = gallery.vote(near, {"handgun": 12, "laptop": 1, "benign": 1}, half_evidence=4, shown=2)
    assert vote.top is not None and vote.top[0] == "handgun" and vote.weight == 0.75  # 12 / (12 + 4)
    assert vote.among("handgun") == 2 and [n.image_sha256 for n in vote.nearest] == ["a", "b"]
    # "b" is filed under its first category, handgun; it holds the laptop too (for the findings)
    assert vote.shares["handgun"] > 0.99 and vote.shares["laptop"] == vote.shares["benign"]
    (found,) = [f for f in gallery.findings(vote, []) if f.item == "handgun"]
    assert found.gallery_share > 0.99 and found.probability == pytest.approx(0.75 * found.gallery_share, 1e-3)
    assert found.present and found.by_gallery and found.threshold == gallery.ALARM_SHARE
    fewer = gallery.vote(near, {"handgun": 2, "laptop": 1, "benign": 1}, half_evidence=4, shown=2)
    assert not [f for f in gallery.findings(fewer, []) if f.item == "handgun"][0].present  # 2 labelled: too few
    assert not gallery.findings(gallery.vote([], {}, half_evidence=4, shown=2), [])[0].present  # empty: nothing
    assert gallery.disagreement(vote, "handgun") is None  # the listing's own category
    sure = gallery.vote(near[:1], {"handgun": 40}, half_evidence=10, shown=10)
    category, share, risk = gallery.disagreement(sure, "laptop") or ("", 0.0, 0.0)
    assert (category, share) == ("handgun", 1.0) and risk == pytest.approx(0.8)  # 40 / (40 + 10), all off
    bags = gallery.vote(near[2:], {"benign": 9}, half_evidence=1, shown=10)
    assert gallery.disagreement(bags, "laptop") is None  # a bag of goods the gallery has no scans of


def test_looks_like_drops_an_item_the_findings_rule_out_without_handing_its_share_on() -> None:
    nothing = gallery.vote([], {}, half_evidence=4, shown=2)  # no gallery: the zero-shot reading alone
    names = [("handgun", 0.96), ("toy", 0.03), ("book", 0.01)]
    assert gallery.looks_like(nothing, names) == [("handgun", 0.96)]  # toy and book under the floor
    assert gallery.looks_like(nothing, names, ruled_out={"handgun"}) == []  # not "a toy (1.00)"
    near = [Neighbour("a", (1,), ("handgun",), 0.90), Neighbour("b", (2,), ("benign",), 0.50)]
    labelled = gallery.vote(near, {"handgun": 40, "benign": 40}, half_evidence=10, shown=2)
    kept = dict(gallery.looks_like(labelled, names, ruled_out={"handgun"}))
    assert kept["handgun"] > 0.7  # the labelled scans' reading is evidence of its own, never dropped


def import_generated_gallery(matcher: Matcher, root: Path) -> None:
    """Ten labelled handgun scans and eight benign ones, rendered by the generator, imported as a folder
    per category, then embedded in the gallery space as the service's reconcile does."""
    for index in range(10):
        shipment = generate_shipment(seed=GALLERY_SEED, index=index, scenario="match", category="handgun")
        (root / "handgun").mkdir(parents=True, exist_ok=True)
        shipment.xray.save(root / "handgun" / f"gun-{index}.png")
    for index in range(8):
        shipment = generate_shipment(seed=GALLERY_SEED, index=100 + index, scenario="match")
        (root / "benign").mkdir(parents=True, exist_ok=True)
        shipment.xray.save(root / "benign" / f"{shipment.category}-{index}.png")
    with matcher.sessions() as session:
        importer = Importer(
            session=session,
            store=matcher.embedder.store,
            limits=Settings().images,
            add=gallery_store.add_scan,
            mapping={},
            dry_run=False,
        )
        report = importer.run(root, "auto")
        assert dict(report.added) == {("handgun", "scan"): 10, ("benign", "scan"): 8}, report.lines()
        verdicts.invalidate_all(session)
        session.commit()
    assert matcher.gallery.reconcile()["gallery_embedded"] == 18


@pytest.fixture
def headless_client(matching_settings: Settings, networks: Networks) -> Iterator[TestClient]:
    """The service with the x-ray model's findings head taken off, so that only the gallery can name a
    threat: as on real scans, where the shipped head detects 1 handgun in 125."""
    encoder = copy.copy(networks.encoder)
    encoder.findings = None
    app = create_app(matching_settings, networks=dataclasses.replace(networks, encoder=encoder))
    with TestClient(app) as client:
        yield client


def test_a_scan_like_labelled_threats_is_flagged_and_an_unfamiliar_one_is_inconclusive(
    headless_client: TestClient, keys: Any, tmp_path: Path
) -> None:
    client, inspector = headless_client, keys("inspector")
    concealed = first("concealment", hidden="handgun")  # a handgun hidden among the declared goods
    shipment_id = file_shipment(client, keys, concealed, "T-GUN")
    before = verdict(client, inspector, shipment_id)
    assert not any(f["present"] for f in before["image_match"]["xray_findings"]), before["image_match"]
    assert before["image_match"]["xray_gallery"]["nearest"] == []

    import_generated_gallery(client.app.state.matcher, tmp_path / "archive")  # type: ignore[attr-defined]
    after = verdict(client, inspector, shipment_id)
    found = {f["item"]: f for f in after["image_match"]["xray_findings"]}
    assert found["handgun"]["present"] and found["handgun"]["gallery_share"] >= 0.5, found
    assert after["decision"] == "mismatch", after["reasons"]
    reason = next(r for r in after["reasons"] if "nearest labelled scans of handguns" in r)
    assert reason.startswith("the x-ray resembles ") and "the listing does not declare a handgun" in reason
    shown = after["image_match"]["xray_gallery"]
    assert shown["labelled"] == 18 and 0 < shown["weight"] < 1 and len(shown["nearest"]) == 10
    nearest = shown["nearest"][0]
    assert nearest["categories"] and nearest["gallery_ids"] and nearest["similarity"] > 0.5
    thumbnail = client.get(f"/v1/images/{nearest['image_sha256']}", headers=auth(inspector))
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/png"

    noise = Image.fromarray(np.random.default_rng(1).integers(0, 256, (256, 256, 3), dtype=np.uint8))
    scans = {"noise": noise, "photo": first("match", category="book").photo}
    for name, scan in scans.items():
        odd = verdict(client, inspector, file_shipment(client, keys, concealed, f"T-{name}", scan=encoded(scan, "PNG")))
        seen = odd["image_match"]["xray_familiarity"]
        assert not seen["familiar"] and seen["gallery_score"] is not None, (name, seen)
        assert odd["decision"] == "inconclusive", (name, odd["reasons"])
        assert any(r.startswith("unfamiliar image: the x-ray is unlike the scans") for r in odd["reasons"]), odd
