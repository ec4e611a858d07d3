"""The operator's examined shipments become paired training data, and a model fine-tuned on them serves.

Shipments are filed, judged and examined over HTTP; `export_examined` writes the manifest of
datasets/README.md; `python -m models.train` fine-tunes the shipped model on it (one short epoch) and
writes an artifact into the operator's models folder, which `reindexing.prepare` then serves from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from models.encoders.registry import ARTIFACTS_DIR, CONFIGS_DIR, DEFAULT_ENCODER
from models.generator.manifest import read_manifest
from models.train.__main__ import main as train_main
from service.db.engine import make_engine, make_session_factory
from service.db.tables import FilingImage
from service.domain.images import ImageStore
from service.matching import models, reindexing
from service.matching.training_export import export_examined
from service.settings import Settings
from tests.service.matching.test_verdicts import file_shipment, shipments, verdict
from tests.support import auth

# (scenario, examination outcome, found category): what inspectors found when they opened the parcels.
EXAMINED = [
    *[("match", "contents_match", None)] * 8,
    *[("concealment", "prohibited_item", "handgun")] * 4,
    *[("substitution", "contents_mismatch", "toy")] * 4,
]


def _filed_images(settings: Settings) -> list[tuple[str, str]]:
    engine = make_engine(settings.resolved_database_url)
    with make_session_factory(engine)() as session:
        found = session.execute(select(FilingImage.image_sha256, FilingImage.role)).all()
    engine.dispose()
    return [(sha, role) for sha, role in found]


def examine(client: TestClient, inspector: Any, shipment_id: str, outcome: str, found: str | None) -> None:
    body = {"outcome": outcome, **({"found_category": found} if found else {})}
    answer = client.post(f"/v1/shipments/{shipment_id}/examinations", json=body, headers=auth(inspector))
    assert answer.status_code == 201, answer.text


def test_examined_shipments_export_to_a_manifest_a_fine_tuned_model_learns_from_and_serves(
    matching_client: TestClient, matching_settings: Settings, keys: Any, tmp_path: Path
) -> None:
    inspector = keys("inspector")
    drawn = {
        scenario: iter(shipments(scenario, n))
        for scenario, n in (("match", 9), ("concealment", 4), ("substitution", 5))
    }
    for n, (scenario, outcome, found) in enumerate(EXAMINED):
        shipment_id = file_shipment(matching_client, keys, next(drawn[scenario]), f"X-{n}")
        verdict(matching_client, inspector, shipment_id)
        examine(matching_client, inspector, shipment_id, outcome, found)
    # Left out, with their reasons: no x-ray; a mismatch whose examination names nothing found.
    no_scan = file_shipment(matching_client, keys, next(drawn["match"]), "X-noscan", carrier=False)
    examine(matching_client, inspector, no_scan, "contents_match", "smartphone")
    unknown = file_shipment(matching_client, keys, next(drawn["substitution"]), "X-unknown")
    verdict(matching_client, inspector, unknown)
    examine(matching_client, inspector, unknown, "contents_mismatch", None)

    out = tmp_path / "examined"
    engine = make_engine(matching_settings.resolved_database_url)
    with make_session_factory(engine)() as session:
        report = export_examined(session, ImageStore(matching_settings.image_dir), out)
    engine.dispose()
    assert report.written == 16 and report.by_label == {"match": 8, "mismatch": 8}
    assert report.skipped == {
        "no product picture and x-ray both": 1,
        "a mismatch whose examination names nothing found (contents unknown)": 1,
    }
    records = list(read_manifest(out / "manifest.jsonl"))  # validated line by line
    assert len(records) == 16 and {r.scenario for r in records} == {"real"}
    for record in records:
        with Image.open(out / record.photo) as photo, Image.open(out / record.xray) as xray:
            assert photo.mode == xray.mode == "RGB"
        if record.label == "match":
            assert record.contents == [record.category] and record.title
        elif "handgun" in record.contents:
            assert record.contents == [record.category, "handgun"]
        else:
            assert record.contents == ["toy"]

    # Fine-tune the shipped model on them: one short epoch, half held out to validate and calibrate on.
    config = {
        "name": "adapted",
        "model_config": str(CONFIGS_DIR / f"{DEFAULT_ENCODER}.json"),
        "init_from": str(ARTIFACTS_DIR / DEFAULT_ENCODER),
        "epochs": 1,
        "batch_size": 8,
        "warmup_steps": 1,
        "threads": 1,
    }
    (tmp_path / "adapt.json").write_text(json.dumps(config))
    models_dir = tmp_path / "models"
    args = ["--config", str(tmp_path / "adapt.json"), "--out", str(tmp_path / "run"), "--device", "cpu"]
    data = ["--train-manifest", str(out / "manifest.jsonl"), "--val-share", "0.5"]
    assert train_main([*args, *data, "--artifact", str(models_dir / "adapted")]) == 0
    card = (models_dir / "adapted" / "MODEL_CARD.md").read_text()
    assert "split/train.jsonl" in card and "models/artifacts/scanmatch-effl0-minilm" in card
    provenance = json.loads((models_dir / "adapted" / "config.json").read_text())["provenance"]
    assert provenance["data"]["train"]["n"] + provenance["data"]["val"]["n"] == 16

    fewer = matching_settings.matching.model_copy(update={"calibration_pairs": 24})
    settings = matching_settings.model_copy(update={"models_dir": models_dir, "matching": fewer})
    engine = make_engine(settings.resolved_database_url)
    ready = reindexing.prepare(
        settings, name="adapted", sessions=make_session_factory(engine), store=ImageStore(settings.image_dir)
    )
    engine.dispose()
    assert ready.identity == models.load(settings, "adapted").identity
    filed = {(sha, role) for sha, role in _filed_images(matching_settings)}
    assert ready.embedded == len(filed)  # every filed image, in the new model's space
    assert ready.calibration == "generated"
