"""Fixtures: every database test runs on SQLite and on PostgreSQL, against a migrated schema."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from service.api.app import create_app
from service.db.engine import make_engine, make_session_factory
from service.db.migrate import upgrade
from service.db.tables import Base
from service.domain import participants
from service.domain.images import ImageStore
from service.matching import calibration, familiarity, labelled
from service.matching.calibration import CalibrationSet
from service.matching.familiarity import Familiarity
from service.matching.matcher import Matcher, Networks
from service.settings import Matching, Settings

BACKENDS = [b.strip() for b in os.environ.get("SCANMATCH_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]
# The encoder the matching tests run: the shipped default unless told otherwise.
TEST_ENCODER = os.environ.get("SCANMATCH_TEST_ENCODER", Matching().encoder)
POSTGRES_ADMIN_URL = os.environ.get(
    "SCANMATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database per backend for the whole run, migrated with alembic like production."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'scanmatch.db'}"
        upgrade(url)
        yield url
        return
    name = f"scanmatch_test_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def empty_database(migrated_database: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database (no schema) on the same backend as `migrated_database`, dropped after the test."""
    if make_url(migrated_database).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty' / 'scanmatch.db'}"
        return
    name = f"scanmatch_test_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(migrated_database: str) -> Iterator[str]:
    yield migrated_database
    engine = make_engine(migrated_database)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Intake settings: matching off, so intake tests do not wait on the encoders."""
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, log_format="console", matching=Matching(enabled=False)
    )


@pytest.fixture(scope="session")
def matching_config() -> Matching:
    # Started in the lifespan, not on a thread: a test's client is ready when it enters (test_warm_up.py
    # covers the background start).
    return Matching(encoder=TEST_ENCODER, max_batch_size=8, max_wait_ms=5, start_in_background=False)


@pytest.fixture(scope="session")
def networks(matching_config: Matching) -> Networks:
    """The real encoders, loaded once for the whole run."""
    return Networks.load(Settings(matching=matching_config))


@pytest.fixture(scope="session")
def generated_reference(networks: Networks, matching_config: Matching) -> labelled.Generated:
    """The generated shipments the service fits on at first start, embedded once for the whole run."""
    return labelled.generated(
        networks.encoder, n=matching_config.calibration_pairs, seed=matching_config.calibration_seed
    )


@pytest.fixture(scope="session")
def calibration_params(generated_reference: labelled.Generated, matching_config: Matching) -> CalibrationSet:
    return calibration.fit(
        generated_reference.cosines,
        generated_reference.labels,
        target_false_alarm_rate=matching_config.target_false_alarm_rate,
        source="generated",
    )


@pytest.fixture(scope="session")
def familiarity_params(networks: Networks, matching_config: Matching) -> dict[str, Familiarity]:
    reference = labelled.generated(
        networks.familiarity, n=matching_config.calibration_pairs, seed=matching_config.calibration_seed
    )
    return familiarity.fit_all(
        reference.photos,
        reference.xrays,
        k=matching_config.familiarity_k,
        quantile=matching_config.familiarity_quantile,
        source="generated",
    )


@pytest.fixture
def matching_settings(
    database_url: str,
    tmp_path: Path,
    matching_config: Matching,
    networks: Networks,
    calibration_params: CalibrationSet,
    familiarity_params: dict[str, Familiarity],
) -> Settings:
    """Settings with matching on; calibration and familiarity are recorded so start-up need not fit them."""
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, log_format="console", matching=matching_config
    )
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        calibration.save(session, model_sha256=networks.encoder.identity, calibration=calibration_params)
        familiarity.save(session, model_sha256=networks.familiarity.identity, familiarity=familiarity_params)
    engine.dispose()
    return settings


@pytest.fixture
def matcher(matching_settings: Settings, networks: Networks) -> Iterator[Matcher]:
    """The matching engine on the test database, without an app."""
    engine = make_engine(matching_settings.resolved_database_url)
    store = ImageStore(matching_settings.image_dir)
    matcher = Matcher(networks=networks, settings=matching_settings, sessions=make_session_factory(engine), store=store)
    matcher.refresher.start()
    yield matcher
    matcher.close()
    engine.dispose()


@pytest.fixture
def matching_client(matching_settings: Settings, networks: Networks) -> Iterator[TestClient]:
    with TestClient(create_app(matching_settings, networks=networks)) as client:
        yield client


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.resolved_database_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


class Keys:
    """Issues keys straight through the domain, as `scanmatch keys create` does."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __call__(self, role: str, name: str | None = None) -> participants.IssuedKey:
        return participants.create_key(self.session, role=role, name=name or f"{role}-{secrets.token_hex(3)}")


@pytest.fixture
def keys(session: Session) -> Keys:
    return Keys(session)
