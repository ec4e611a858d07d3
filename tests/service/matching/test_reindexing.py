"""Switching models safely: a second model's embeddings, indexes and calibration are built while the first
serves, the first's stay as they were, and switching the setting serves the second without recomputing."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from models.encoders.registry import ARTIFACTS_DIR
from service.api.app import create_app
from service.db.engine import make_engine, make_session_factory
from service.db.tables import Calibration, Embedding
from service.domain.images import ImageStore
from service.matching import models, reindexing
from service.matching.indexes import IndexSet
from service.matching.matcher import Networks
from service.settings import Settings
from tests.models.artifacts import copy_with_thresholds
from tests.service.matching.test_verdicts import file_shipment, first, verdict

NEW = "operator-v2"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    copy_with_thresholds(ARTIFACTS_DIR / "scanmatch-effl0-minilm", folder / NEW, scale=0.5)
    return folder


def rows_of(settings: Settings, identity: str) -> dict[int, tuple[str, str, bytes]]:
    engine = make_engine(settings.resolved_database_url)
    with make_session_factory(engine)() as session:
        found = session.execute(
            select(Embedding.id, Embedding.image_sha256, Embedding.modality, Embedding.vector).where(
                Embedding.model_sha256 == identity
            )
        ).all()
    engine.dispose()
    return {i: (sha, modality, vector) for i, sha, modality, vector in found}


def calibrations_of(settings: Settings, identity: str) -> int:
    engine = make_engine(settings.resolved_database_url)
    with make_session_factory(engine)() as session:
        n = session.scalar(select(func.count()).select_from(Calibration).where(Calibration.model_sha256 == identity))
    engine.dispose()
    return int(n or 0)


def test_a_model_is_prepared_while_another_serves_and_the_switch_recomputes_nothing(
    matching_settings: Settings, networks: Networks, models_dir: Path, keys: Any
) -> None:
    # The new model's calibration is fitted on (fewer) generated pairs, as at a first start.
    fewer = matching_settings.matching.model_copy(update={"calibration_pairs": 40})
    settings = matching_settings.model_copy(update={"models_dir": models_dir, "matching": fewer})
    old = networks.encoder
    new_encoder = models.load(settings, NEW)
    assert new_encoder.identity != old.identity  # same weights, other thresholds: another model

    inspector = keys("inspector")
    with TestClient(create_app(settings, networks=networks)) as client:
        shipment_ids = [
            file_shipment(client, keys, first(scenario), f"T-{scenario}") for scenario in ("match", "substitution")
        ]
        served = {sid: verdict(client, inspector, sid) for sid in shipment_ids}
        assert {v["model"]["sha256"] for v in served.values()} == {old.identity}
        old_rows = rows_of(settings, old.identity)
        filed = {modality: sum(m == modality for _, m, _ in old_rows.values()) for modality in ("photo", "xray")}
        assert filed["photo"] >= 1 and filed["xray"] >= 1  # (shipments may share an image: one row each)
        old_index = IndexSet(settings.index_dir, model_sha256=old.identity, dim=old.dim, exact_max=10)
        old_ids = {name: sorted(index.ids().tolist()) for name, index in old_index.by_name.items()}

        # Prepare the new model on another thread while the old one keeps answering.
        prepared: list[reindexing.Prepared] = []
        engine = make_engine(settings.resolved_database_url)
        worker = threading.Thread(
            target=lambda: prepared.append(
                reindexing.prepare(
                    settings, name=NEW, sessions=make_session_factory(engine), store=ImageStore(settings.image_dir)
                )
            )
        )
        worker.start()
        while worker.is_alive():
            for sid in shipment_ids:
                assert verdict(client, inspector, sid)["model"]["sha256"] == old.identity
        worker.join()
        engine.dispose()
        ready = prepared[0]
        assert ready.identity == new_encoder.identity and ready.calibration == "generated"
        assert ready.embedded == len(old_rows)
        assert ready.indexes == {"listings": (filed["photo"], True), "scans": (filed["xray"], True)}
        assert ready.folder != old_index.folder and (ready.folder / "model.txt").read_text().strip() == ready.identity

        # The serving model's rows and indexes are as they were; the new model's vectors are its own.
        assert rows_of(settings, old.identity) == old_rows
        reopened = IndexSet(settings.index_dir, model_sha256=old.identity, dim=old.dim, exact_max=10)
        assert {name: sorted(index.ids().tolist()) for name, index in reopened.by_name.items()} == old_ids
        new_rows = rows_of(settings, new_encoder.identity)
        assert len(new_rows) == len(old_rows) and not set(new_rows) & set(old_rows)
        assert {(sha, m) for sha, m, _ in new_rows.values()} == {(sha, m) for sha, m, _ in old_rows.values()}
        new_index = IndexSet(settings.index_dir, model_sha256=new_encoder.identity, dim=new_encoder.dim, exact_max=10)
        assert sorted(new_index["scans"].ids().tolist() + new_index["listings"].ids().tolist()) == sorted(new_rows)
        for name, index in new_index.by_name.items():  # each stored vector finds itself in its own model's index
            for row_id in index.ids().tolist():
                vector = np.frombuffer(new_rows[row_id][2], "<f4")
                assert index.search(vector[None, :], 1)[0][0].id == row_id, name

    # The switch: one setting. Nothing is embedded or calibrated again; verdicts come from the new model.
    switched = settings.model_copy(update={"matching": settings.matching.model_copy(update={"encoder": NEW})})
    with TestClient(create_app(switched, networks=replace(networks, encoder=new_encoder))) as client:
        client.app.state.matcher.catch_up.join(timeout=120)  # type: ignore[attr-defined]
        for sid in shipment_ids:
            answer = verdict(client, inspector, sid)
            assert answer["model"]["sha256"] == new_encoder.identity and answer["model"]["name"] == NEW
            assert answer["decision"] in ("match", "mismatch", "inconclusive")
    assert rows_of(settings, new_encoder.identity) == new_rows
    assert calibrations_of(settings, new_encoder.identity) == 1
    assert rows_of(settings, old.identity) == old_rows  # switching back needs nothing either


def test_an_index_folder_of_another_model_is_refused(tmp_path: Path) -> None:
    IndexSet(tmp_path, model_sha256="ab" * 32, dim=8, exact_max=10)
    with pytest.raises(ValueError, match="holds the indexes of model abab"):
        IndexSet(tmp_path, model_sha256="ab" * 16 + "cd" * 16, dim=8, exact_max=10)


def test_an_operator_artifact_is_served_by_its_folder_name_and_a_clash_is_refused(
    models_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, models_dir=models_dir)
    assert NEW in models.registry(settings).names() and "scanmatch-effl0-minilm" in models.registry(settings).names()
    assert models.registry(Settings(data_dir=tmp_path)).names() == sorted(["scanmatch-effl0-minilm", "imagenet-effl0"])
    copy_with_thresholds(ARTIFACTS_DIR / "scanmatch-effl0-minilm", tmp_path / "m" / "imagenet-effl0", scale=0.9)
    with pytest.raises(ValueError, match="registered twice"):
        models.registry(Settings(data_dir=tmp_path, models_dir=tmp_path / "m"))
