"""Data kept as promised: enforcement holds set and released by administrators, and `scanmatch purge` applying
the retention policy to the database, the image store and every index, run as an operator runs it."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import faiss
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.api.app import create_app
from service.db.engine import make_engine, make_session_factory
from service.db.tables import (
    AuditEvent,
    Embedding,
    Filing,
    FilingImage,
    GalleryPhoto,
    GalleryScan,
    GalleryVector,
    Shipment,
    ShipmentIdentifier,
    StoredImage,
    Verdict,
)
from service.domain import data_lock
from service.domain.errors import DataDirectoryBusy
from service.domain.images import ImageStore
from service.matching import gallery
from service.matching.indexes import VectorIndex
from service.matching.matcher import Networks
from service.settings import Retention, Settings
from tests.service.matching.test_examinations import audited
from tests.service.matching.test_verdicts import file_shipment, first
from tests.service.test_cli import scanmatch
from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart

EVERYTHING_EXPIRED = {"SCANMATCH_RETENTION__FILINGS_DAYS": "0"}


def purge(settings: Settings, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return scanmatch(
        "purge",
        *args,
        data_dir=settings.data_dir,
        database_url=settings.resolved_database_url,
        env=EVERYTHING_EXPIRED if env is None else env,
    )


def file_pair(client: TestClient, keys: Any, tracking: str, *, photo: bytes, scan: bytes) -> str:
    """A marketplace listing with its picture and the carrier's x-ray for one tracking number: the shipment id."""
    shop, courier = keys("marketplace", "Shop"), keys("carrier", "Courier")
    listing = marketplace_filing(shop.originator_code, tracking=tracking, enhanced_description="desk lamp")
    sent = client.post("/v1/filings", headers=auth(shop), files=multipart(listing, product_picture=photo))
    assert sent.status_code == 201, sent.text
    manifest = carrier_filing(courier.originator_code, tracking=tracking)
    scanned = client.post("/v1/filings", headers=auth(courier), files=multipart(manifest, security_scan=scan))
    assert scanned.status_code == 201, scanned.text
    return str(sent.json()["shipment_id"])


class Stored:
    """What the database and the image store hold, read afresh each time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = ImageStore(settings.image_dir)

    def __call__(self, query: Any) -> list[Any]:
        engine = make_engine(self.settings.resolved_database_url)
        with make_session_factory(engine)() as session:
            rows = list(session.execute(query).all())
        engine.dispose()
        return [row[0] if len(row) == 1 else tuple(row) for row in rows]

    def shipments(self) -> set[str]:
        return set(self(select(Shipment.id)))

    def images(self) -> set[str]:
        return set(self(select(StoredImage.sha256)))

    def files(self) -> set[str]:
        return set(self.store.stored())

    def images_of(self, shipment_id: str) -> set[str]:
        return set(
            self(
                select(FilingImage.image_sha256)
                .join(Filing, Filing.id == FilingImage.filing_id)
                .where(Filing.shipment_id == shipment_id)
            )
        )

    def audit(self, action: str) -> list[tuple[str | None, str | None, str | None, str | None]]:
        """(participant name, role, shipment id, detail) of the events of `action`, oldest first."""
        return self(
            select(AuditEvent.participant_name, AuditEvent.role, AuditEvent.shipment_id, AuditEvent.detail)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )


def test_holds_are_placed_and_released_by_administrators_only(client: TestClient, keys: Any) -> None:
    inspector, admin, carrier = keys("inspector"), keys("admin", "Ada"), keys("carrier")
    older = file_pair(client, keys, "H-0", photo=image_bytes(seed=3), scan=image_bytes(seed=4))
    held = file_pair(client, keys, "H-1", photo=image_bytes(seed=1), scan=image_bytes(seed=2))
    path = f"/v1/shipments/{held}/hold"
    for outsider in (inspector, carrier):
        refused = client.put(path, json={"reason": "case 7"}, headers=auth(outsider))
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden", refused.text
    placed = client.put(path, json={"reason": "  case 2026-118: lookout on the seller  "}, headers=auth(admin))
    assert placed.status_code == 200, placed.text
    assert placed.json()["reason"] == "case 2026-118: lookout on the seller" and placed.json()["placed_by"] == "Ada"
    view = client.get(f"/v1/shipments/{held}", headers=auth(inspector)).json()
    assert view["hold"]["reason"] == "case 2026-118: lookout on the seller"
    changed = client.put(path, json={"reason": "case 2026-119"}, headers=auth(admin))
    assert changed.status_code == 200 and changed.json()["placed_at"] == placed.json()["placed_at"]
    assert client.put(path, json={"reason": " "}, headers=auth(admin)).status_code == 422
    assert client.put(path, json={"reason": "x\x00"}, headers=auth(admin)).status_code == 422
    missing = client.put("/v1/shipments/shp_nope/hold", json={"reason": "case 8"}, headers=auth(admin))
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"

    # A hold placed on a shipment holds what it is merged into: a filing that links it to an older one.
    shop = keys("marketplace", "Shop")
    billed: dict[str, Any] = {
        "identifiers": {"tracking_number": "H-0", "house_bill": "HB-LINK"},
        "enhanced_description": "lamp",
    }
    linking = marketplace_filing(shop.originator_code, **billed)
    assert client.post("/v1/filings", headers=auth(shop), files=multipart(linking)).status_code == 201
    courier = keys("carrier", "Courier")
    joining = carrier_filing(courier.originator_code, identifiers={"tracking_number": "H-1", "house_bill": "HB-LINK"})
    joined = client.post("/v1/filings", headers=auth(courier), files=multipart(joining, security_scan=image_bytes()))
    assert joined.json()["shipment_id"] == older
    survivor = client.get(f"/v1/shipments/{held}", headers=auth(inspector)).json()
    assert survivor["shipment_id"] == older and survivor["merged_from"] == [held]
    assert survivor["hold"]["reason"] == "case 2026-119" and survivor["hold"]["shipment_id"] == held

    assert client.delete(path, headers=auth(inspector)).status_code == 403
    released = client.delete(f"/v1/shipments/{survivor['shipment_id']}/hold", headers=auth(admin))
    assert released.status_code == 200 and released.json()["reason"] == "case 2026-119"
    assert client.get(f"/v1/shipments/{held}", headers=auth(inspector)).json()["hold"] is None
    again = client.delete(path, headers=auth(admin))
    assert again.status_code == 404 and "has no hold to release" in again.json()["message"]

    holds = audited(client, admin, "shipment.hold")
    assert [(outcome, shipment) for outcome, shipment, _ in holds] == [
        ("forbidden", held),
        ("forbidden", held),
        ("ok", held),
        ("ok", held),
        ("invalid_request", None),
        ("invalid_request", None),
        ("not_found", "shp_nope"),
    ]
    assert holds[2][2] == "placed: case 2026-118: lookout on the seller"
    assert holds[3][2] == "reason changed from 'case 2026-118: lookout on the seller': case 2026-119"
    releases = audited(client, admin, "shipment.release")
    assert [(outcome, shipment) for outcome, shipment, _ in releases] == [
        ("forbidden", held),
        ("ok", survivor["shipment_id"]),
        ("not_found", held),
    ]
    assert releases[1][2] is not None and "by Ada: case 2026-119" in releases[1][2]

    spec = client.get("/openapi.json").json()["paths"]["/v1/shipments/{shipment_id}/hold"]
    assert set(spec["put"]["responses"]) == {"200", "400", "401", "403", "404", "413", "422"}
    assert set(spec["delete"]["responses"]) == {"200", "401", "403", "404", "422"}


def test_purge_keeps_held_shipments_and_removes_the_rest(settings: Settings, keys: Any) -> None:
    stored = Stored(settings)
    with TestClient(create_app(settings)) as client:
        admin = keys("admin")
        shared_photo = image_bytes(seed=10)  # one picture used by two sellers: kept while a kept filing has it
        held = file_pair(client, keys, "P-HELD", photo=shared_photo, scan=image_bytes(seed=11))
        gone = [
            file_pair(client, keys, "P-1", photo=image_bytes(seed=12), scan=image_bytes(seed=13)),
            file_pair(client, keys, "P-2", photo=shared_photo, scan=image_bytes(seed=14)),
        ]
        reason = {"reason": "case 41: under investigation"}
        assert client.put(f"/v1/shipments/{held}/hold", json=reason, headers=auth(admin)).status_code == 200
        busy = purge(settings, "--yes")  # a running server holds the indexes: no purge under it
        assert busy.returncode == 1 and "stop it and run the purge again" in busy.stderr, busy.stderr
    before = (stored.shipments(), stored.images(), stored.files(), len(stored(select(AuditEvent.id))))
    assert len(before[1]) == 5 and before[1] == before[2]

    nothing = purge(settings, "--now", "2000-01-01")  # nothing had been filed then
    assert nothing.returncode == 0 and "shipments                0" in nothing.stdout, nothing.stdout
    dry = purge(settings)
    assert dry.returncode == 0, dry.stderr
    assert "would go" in dry.stdout and "dry run: nothing removed" in dry.stdout
    assert "shipments                2" in dry.stdout and "filings                  4" in dry.stdout
    assert "images                   3" in dry.stdout and f"kept under a hold: {held}" in dry.stdout
    assert (stored.shipments(), stored.images(), stored.files(), len(stored(select(AuditEvent.id)))) == before

    done = purge(settings, "--yes", "--operator", "Olga")
    assert done.returncode == 0, done.stderr
    assert "shipments: 100%" in done.stderr  # the progress bar
    assert "3 image file(s)" in done.stdout and "audited as Olga" in done.stdout
    kept = stored.images_of(held)
    assert stored.shipments() == {held}
    assert stored.images() == kept == stored.files() and len(kept) == 2
    assert set(stored(select(ShipmentIdentifier.value))) == {"P-HELD"}
    purged = stored.audit("shipment.purge")
    assert sorted(str(shipment) for *_, shipment, _ in purged) == sorted(gone)
    assert all(name == "Olga" and role == "operator" for name, role, *_ in purged)
    ((name, role, _, detail),) = stored.audit("retention.purge")
    summary = json.loads(detail or "")
    assert (name, role) == ("Olga", "operator")
    assert summary["counts"]["shipments"] == 2 and summary["counts"]["images"] == 3
    assert summary["held_shipments_kept"] == [held]

    with TestClient(create_app(settings)) as client:
        inspector = keys("inspector")
        for shipment in gone:
            assert client.get(f"/v1/shipments/{shipment}", headers=auth(inspector)).status_code == 404
        assert client.get(f"/v1/shipments/{held}", headers=auth(inspector)).status_code == 200
        assert client.delete(f"/v1/shipments/{held}/hold", headers=auth(keys("admin"))).status_code == 200
    released = purge(settings, "--yes", "--operator", "Olga")
    assert released.returncode == 0, released.stderr
    assert stored.shipments() == set() and stored.images() == set() and stored.files() == set()
    assert [s for *_, s, _ in stored.audit("shipment.purge")] == [*sorted(gone), held]


def test_images_and_audit_records_expire_on_their_own(settings: Settings, keys: Any) -> None:
    stored = Stored(settings)
    with TestClient(create_app(settings)) as client:
        shipment = file_pair(client, keys, "I-1", photo=image_bytes(seed=20), scan=image_bytes(seed=21))
        assert client.get(f"/v1/shipments/{shipment}", headers=auth(keys("inspector"))).status_code == 200
    env = {"SCANMATCH_RETENTION__IMAGES_DAYS": "0", "SCANMATCH_RETENTION__AUDIT_DAYS": "0"}
    done = purge(settings, "--yes", env=env)
    assert done.returncode == 0, done.stderr
    assert stored.shipments() == {shipment} and len(stored(select(Filing.id))) == 2
    assert stored.images() == set() == stored.files() and stored(select(FilingImage.filing_id)) == []
    # The trail lost everything older than the purge, and says who removed what.
    assert stored(select(AuditEvent.action, AuditEvent.shipment_id).order_by(AuditEvent.id)) == [
        ("images.purge", shipment),
        ("images.purge", shipment),
        ("retention.purge", None),
    ]
    summary = json.loads(stored.audit("retention.purge")[0][3] or "")
    assert summary["counts"]["audit_records"] >= 1 and summary["counts"]["filing_images"] == 2
    # The purge cut the oldest part of the hash chain: what remains still verifies, anchored on its oldest.
    verified = scanmatch("audit", "verify", data_dir=settings.data_dir, database_url=settings.resolved_database_url)
    assert verified.returncode == 0, verified.stderr
    with TestClient(create_app(settings)) as client:
        view = client.get(f"/v1/shipments/{shipment}", headers=auth(keys("inspector"))).json()
    assert [f["images"] for f in view["filings"]] == [[], []]


def test_a_server_does_not_start_during_a_purge(settings: Settings) -> None:
    with data_lock.alone(settings.data_dir):
        try:
            with TestClient(create_app(settings)):
                raise AssertionError("a server started while a purge held the data directory")
        except DataDirectoryBusy as error:
            assert "`scanmatch purge` is running" in error.message
    with TestClient(create_app(settings)) as client:  # and once it is over, it does
        assert client.get("/healthz").status_code == 200


def test_the_policy_refuses_images_kept_longer_than_their_filing() -> None:
    assert Retention().keeps_everything  # PIA 5.1: permanent records until a NARA-approved schedule
    try:
        Retention(filings_days=30, images_days=60)
    except ValueError as error:
        assert "images_days (60) is longer than filings_days (30)" in str(error)
    else:
        raise AssertionError("images kept longer than their filing were accepted")


def test_purged_vectors_are_gone_from_every_index(matching_settings: Settings, networks: Networks, keys: Any) -> None:
    settings, stored = matching_settings, Stored(matching_settings)
    with TestClient(create_app(settings, networks=networks)) as client:
        inspector, admin = keys("inspector"), keys("admin")
        held = file_shipment(client, keys, first("match"), "V-HELD")
        gone = file_shipment(client, keys, first("substitution"), "V-GONE")
        for shipment in (held, gone):
            assert client.get(f"/v1/shipments/{shipment}/verdict", headers=auth(inspector)).status_code == 200
        examined = client.post(
            f"/v1/shipments/{gone}/examinations",
            json={"outcome": "contents_mismatch", "found_category": "sneakers"},
            headers=auth(inspector),
        )
        assert examined.status_code == 201 and examined.json()["joined_gallery"], examined.text
        assert (
            client.put(f"/v1/shipments/{held}/hold", json={"reason": "case 9"}, headers=auth(admin)).status_code == 200
        )
    # The held shipment's stored verdict names the other one among its nearest listings and scans.
    assert any(gone in json.dumps(payload) for payload in stored(select(Verdict.payload)))
    gone_images = stored.images_of(gone) - stored.images_of(held)  # the generator may give both one picture
    removed_embeddings = set(stored(select(Embedding.id).where(Embedding.image_sha256.in_(gone_images))))
    removed_gallery = set(stored(select(GalleryVector.id).where(GalleryVector.image_sha256.in_(gone_images))))
    assert removed_embeddings and removed_gallery and stored(select(GalleryScan.id))

    done = purge(settings, "--yes")
    assert done.returncode == 0, done.stderr
    assert stored.shipments() == {held} and stored(select(GalleryScan.id)) == []
    assert not set(stored(select(GalleryVector.id))) & removed_gallery
    assert not any(gone in json.dumps(payload) for payload in stored(select(Verdict.payload)))
    files = sorted(settings.index_dir.glob("*/*.faiss"))
    assert {f.name for f in files} >= {"listings.faiss", "scans.faiss", f"gallery-{gallery.METHOD}.faiss"}, files
    for path in files:
        model = (path.parent / "model.txt").read_text().strip()
        ids = set(VectorIndex(path, faiss.read_index(str(path)).d, exact_max=1).ids().tolist())
        assert not ids & (removed_gallery if path.name.startswith("gallery-") else removed_embeddings), path
        if path.name.startswith("gallery-"):
            table = GalleryScan if path.name == f"gallery-{gallery.METHOD}.faiss" else GalleryPhoto
            labelled = select(table.image_sha256)
            expected = select(GalleryVector.id).where(
                GalleryVector.model_sha256 == model, GalleryVector.image_sha256.in_(labelled)
            )
        else:
            modality = "photo" if path.name == "listings.faiss" else "xray"
            expected = select(Embedding.id).where(Embedding.model_sha256 == model, Embedding.modality == modality)
            assert len(ids) == 1, path  # the held shipment's picture, or its x-ray
        assert ids == set(stored(expected)), path
    # A server started on the purged data finds its indexes in line with the database: nothing to rebuild.
    with TestClient(create_app(settings, networks=networks)) as client:
        matcher = client.app.state.matcher  # type: ignore[attr-defined]
        assert matcher.catch_up is not None
        matcher.catch_up.join(timeout=120)
        assert matcher.indexes["scans"].size == 1 and matcher.gallery.index.size == 0
        verdict = client.get(f"/v1/shipments/{held}/verdict", headers=auth(keys("inspector"))).json()
    assert gone not in json.dumps(verdict)
