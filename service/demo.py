"""`scanmatch demo`: a data directory filled the way filers fill it, then the console serving it.

The demo issues keys for a marketplace, a carrier, an inspector and an administrator; renders
shipments with the paired generator (every scenario, its own seed); transmits each through the
HTTP API as filers do (multipart filings from both parties, built with the filing schema); waits
until every verdict is computed; and serves the console. Everything lives in one data directory:
a second run finds the keys and the filings there and starts at once.
"""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from models.generator.synthetic import SCENARIOS, Shipment, generate_shipment
from service.db.engine import make_engine, make_session_factory
from service.db.migrate import upgrade
from service.db.tables import Shipment as ShipmentRow
from service.domain import participants
from service.domain.errors import NotAuthenticated
from service.domain.filing_schema import CarrierFiling, MarketplaceFiling
from service.matching import verdicts
from service.settings import Settings

SEED = 19  # the demo's own stream: not training (1001, 1002), evaluation (7), calibration (11) or tests (23)
KEYS_FILE = "demo-keys.json"
FILED_FILE = "demo-filed.json"
PARTICIPANTS = {
    "marketplace": "Demo Marketplace",
    "carrier": "Demo Air Express",
    "inspector": "Demo Inspector",
    "admin": "Demo Administrator",
}
SELLERS = (
    "Shenzhen Bright Gadgets",
    "Yiwu Daily Goods",
    "Guangzhou Footwear Hub",
    "Ningbo Tool Works",
    "Hangzhou Silk Road Trading",
    "Dongguan Sound Co",
    "Xiamen Beauty Supply",
    "Shanghai Book Depot",
    "Foshan Home Store",
    "Suzhou Time Pieces",
    "Wenzhou Leather Goods",
    "Qingdao Outdoor Gear",
)
CITIES = (("Shenzhen", "518000"), ("Yiwu", "322000"), ("Guangzhou", "510000"), ("Ningbo", "315000"))
BUYERS = (
    ("Pat Doe", "12 Elm St", "Springfield", "62701", "IL"),
    ("Sam Lee", "48 Oak Ave", "Portland", "97205", "OR"),
    ("Alex Kim", "7 Pine Rd", "Austin", "73301", "TX"),
    ("Jo Rivera", "301 Bay St", "Tampa", "33602", "FL"),
    ("Chris Moe", "9 Lake Dr", "Madison", "53703", "WI"),
    ("Robin Fox", "55 Hill Ln", "Denver", "80202", "CO"),
)
# Where the demo bends the usual flow, every this-many shipments (offset so that small runs show each).
NO_SCAN_EVERY, NO_SCAN_AT = 20, 7  # an air listing whose carrier has not transmitted the x-ray
REUSED_XRAY_EVERY, REUSED_XRAY_AT = 25, 11  # the carrier sends an earlier shipment's x-ray again
REUSED_PHOTO_EVERY, REUSED_PHOTO_AT = 30, 9  # another seller lists with an earlier shipment's photo
REUSE_DISTANCE = 8


class DemoError(RuntimeError):
    """The demo could not fill or serve its data directory; the message says why and what to do."""


@dataclass(frozen=True)
class DemoKey:
    key: str
    originator_code: str | None


@dataclass(frozen=True)
class Planned:
    """One demo shipment: which generated shipment, who sells it, and how it is filed."""

    index: int
    scenario: str | None  # None: drawn from the generator's default mix
    tracking: str
    house_bill: str
    master_bill: str
    seller: int  # index into SELLERS
    buyer: int  # index into BUYERS
    carrier_files: bool
    xray_of: int  # the shipment whose x-ray the carrier sends (itself, unless reused)
    photo_of: int  # the shipment whose photo the marketplace sends


def _private_write(path: Path, text: str) -> None:
    """Write a file only its owner can read (it holds API keys), atomically."""
    tmp = path.with_suffix(".tmp")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def demo_keys(sessions: sessionmaker[Session], data_dir: Path) -> dict[str, DemoKey]:
    """The demo participants' keys: those stored in the data directory while they still work, else new ones."""
    path = data_dir / KEYS_FILE
    stored: dict[str, dict[str, Any]] = json.loads(path.read_text()) if path.exists() else {}
    found: dict[str, DemoKey] = {}
    with sessions() as session:
        for role, name in PARTICIPANTS.items():
            known = stored.get(role)
            if known is not None:
                try:
                    participants.key_row(session, known["key"])
                    found[role] = DemoKey(**known)
                    continue
                except NotAuthenticated:
                    pass  # revoked, or another database: issue a new one
            issued = participants.create_key(session, role=role, name=name)
            found[role] = DemoKey(key=issued.key, originator_code=issued.originator_code)
    _private_write(path, json.dumps({role: asdict(key) for role, key in found.items()}, indent=2))
    return found


def plan(n: int, seed: int = SEED) -> list[Planned]:
    """n shipments: one of each generator scenario first, then the generator's own mix; a few sellers sell
    most of them; some bend the flow (no scan yet, a reused x-ray, a photo another seller used)."""
    weights = 1 / np.arange(1, len(SELLERS) + 1)  # a few sellers sell most: repeat sellers
    # Each shipment's draws depend on (seed, index) alone: a larger demo files the smaller one's shipments
    # identically, so their transmissions replay instead of conflicting.
    draws = [np.random.default_rng([seed, i]) for i in range(n)]
    sellers = [int(rng.choice(len(SELLERS), p=weights / weights.sum())) for rng in draws]
    planned = []
    for i, rng in enumerate(draws):
        reuse_photo = i % REUSED_PHOTO_EVERY == REUSED_PHOTO_AT and i >= REUSE_DISTANCE
        seller = sellers[i]
        if reuse_photo and seller == sellers[i - REUSE_DISTANCE]:
            seller = (seller + 1) % len(SELLERS)  # the point is another seller using the photo
        planned.append(
            Planned(
                index=i,
                scenario=SCENARIOS[i] if i < len(SCENARIOS) else None,
                tracking=f"DM{seed:02d}{i:06d}US",
                house_bill=f"HAWB-{seed}-{i:05d}",
                master_bill=f"176-{seed:03d}{i // 10:05d}",  # ten shipments a consolidation
                seller=seller,
                buyer=int(rng.integers(len(BUYERS))),
                carrier_files=i % NO_SCAN_EVERY != NO_SCAN_AT,
                xray_of=i - REUSE_DISTANCE if i % REUSED_XRAY_EVERY == REUSED_XRAY_AT and i >= REUSE_DISTANCE else i,
                photo_of=i - REUSE_DISTANCE if reuse_photo else i,
            )
        )
    return planned


def _encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def _address(seller: int) -> dict[str, str]:
    city, postal = CITIES[seller % len(CITIES)]
    return {"street": f"{8 + seller * 7} Industrial Rd", "city": city, "postal_code": postal, "country": "CN"}


def _buyer(index: int) -> dict[str, Any]:
    name, street, city, postal, region = BUYERS[index]
    address = {"street": street, "city": city, "postal_code": postal, "region": region, "country": "US"}
    return {"name": name, "address": address}


def listing_filing(p: Planned, s: Shipment, key: DemoKey) -> MarketplaceFiling:
    """The marketplace's filing (PIA 2.1 paragraph 3), validated by the service's own schema."""
    return MarketplaceFiling.model_validate(
        {
            "originator_code": key.originator_code,
            "filer_type": "marketplace",
            "transmission_id": f"demo-{p.tracking}-listing",
            "identifiers": {"tracking_number": p.tracking},
            "mode": "air",
            "seller": {"name": SELLERS[p.seller], "address": _address(p.seller)},
            "seller_id": f"S-{1000 + p.seller}",
            "known_marketplace_seller": p.seller < 4,
            "final_deliver_to": _buyer(p.buyer),
            "buyer": _buyer(p.buyer),
            "listed_price": {"amount": Decimal(f"{s.declared_value:.2f}"), "currency": "USD"},
            "enhanced_description": f"{s.title}. {s.description}",
            "hts_number": s.hts,
            "weight_kg": Decimal(f"{s.declared_weight_kg:.2f}"),
            "marketplace_name": PARTICIPANTS["marketplace"],
        }
    )


def carrier_filing(p: Planned, s: Shipment, key: DemoKey) -> CarrierFiling:
    """The carrier's filing (PIA 2.1 paragraph 2), validated by the service's own schema."""
    return CarrierFiling.model_validate(
        {
            "originator_code": key.originator_code,
            "filer_type": "carrier",
            "transmission_id": f"demo-{p.tracking}-scan",
            "identifiers": {"tracking_number": p.tracking, "house_bill": p.house_bill, "master_bill": p.master_bill},
            "mode": "air",
            "shipment_initiator": {"name": SELLERS[p.seller], "address": _address(p.seller)},
            "final_deliver_to": _buyer(p.buyer),
            "enhanced_description": s.title,
            "known_carrier_customer": True,
            "carrier_name": PARTICIPANTS["carrier"],
            "weight_kg": Decimal(f"{s.declared_weight_kg:.2f}"),
        }
    )


def transmit(
    client: httpx.Client, key: DemoKey, filing: MarketplaceFiling | CarrierFiling, part: str, image: tuple[str, bytes]
) -> str:
    """POST /v1/filings as a filer does: the filing as JSON and its image (file name, bytes) as multipart parts."""
    files: dict[str, tuple[str | None, bytes | str, str]] = {
        "filing": (None, filing.model_dump_json(exclude_none=True), "application/json"),
        part: (image[0], image[1], "application/octet-stream"),
    }
    response = client.post("/v1/filings", headers={"Authorization": f"Bearer {key.key}"}, files=files)
    if response.status_code not in (200, 201):  # 200: a retry of a transmission already received
        raise DemoError(f"the service refused a demo filing ({response.status_code}): {response.text}")
    return str(response.json()["shipment_id"])


def file_shipments(
    client: httpx.Client, keys: dict[str, DemoKey], planned: list[Planned], *, seed: int = SEED, progress: bool = True
) -> list[str]:
    """Render and transmit every planned shipment; the shipment ids the receipts gave, in order."""
    generated: dict[int, Shipment] = {}
    ids = []
    for p in tqdm(planned, desc="filing shipments", unit="shipment", disable=not progress):
        generated[p.index] = s = generate_shipment(seed=seed, index=p.index, scenario=p.scenario)
        shop, courier = keys["marketplace"], keys["carrier"]
        photo = ("listing.jpg", _encoded(generated[p.photo_of].photo, "JPEG"))
        ids.append(transmit(client, shop, listing_filing(p, s, shop), "product_picture", photo))
        if p.carrier_files:
            xray = ("scan.png", _encoded(generated[p.xray_of].xray, "PNG"))
            transmit(client, courier, carrier_filing(p, s, courier), "security_scan", xray)
    return ids


def wait_for_verdicts(
    sessions: sessionmaker[Session],
    shipment_ids: Iterable[str],
    *,
    timeout_s: float = 1800,
    stalled_s: float = 300,
    progress: bool = True,
) -> None:
    """Wait until every shipment's stored verdict has read all its filings (the service computes them after
    each filing, in the background)."""
    ids = sorted(set(shipment_ids))
    start = last_change = time.monotonic()
    done_before = -1
    with tqdm(total=len(ids), desc="computing verdicts", unit="shipment", disable=not progress) as bar:
        while True:
            with sessions() as session:
                done = sum(verdicts.up_to_date(session, shipment_id) for shipment_id in ids)
            bar.update(done - bar.n)
            if done == len(ids):
                return
            now = time.monotonic()
            if done != done_before:
                done_before, last_change = done, now
            if now - start > timeout_s or now - last_change > stalled_s:
                raise DemoError(
                    f"{len(ids) - done} of {len(ids)} verdicts were not computed in time; the server's log says "
                    "why (run again: filed shipments are not filed twice)"
                )
            time.sleep(0.5)


def fill(
    client: httpx.Client,
    sessions: sessionmaker[Session],
    data_dir: Path,
    *,
    n: int,
    seed: int = SEED,
    progress: bool = True,
) -> tuple[dict[str, DemoKey], list[str]]:
    """Keys, filings and verdicts in the data directory, done once: a second call reuses what is there."""
    keys = demo_keys(sessions, data_dir)
    record = data_dir / FILED_FILE
    filed = json.loads(record.read_text()) if record.exists() else {}
    ids: list[str] = filed.get("shipment_ids", [])
    with sessions() as session:
        present = all(session.get(ShipmentRow, shipment_id) is not None for shipment_id in ids)
    if not (ids and present and filed.get("seed") == seed and filed.get("n") == n):
        # Filed before in part (or for another n)? Those transmissions replay: nothing is filed twice.
        ids = file_shipments(client, keys, plan(n, seed), seed=seed, progress=progress)
        record.write_text(json.dumps({"seed": seed, "n": n, "shipment_ids": ids}, indent=2))
    wait_until_ready(client, progress=progress)
    wait_for_verdicts(sessions, ids, progress=progress)
    return keys, ids


def wait_until_ready(client: httpx.Client, *, timeout_s: float = 1800, progress: bool = True) -> None:
    """Wait for matching to start: the models load and, at a first start, calibrate while shipments are filed."""
    deadline = time.monotonic() + timeout_s
    shown = ""
    while (ready := client.get("/readyz")).status_code != 200:
        status = str(ready.json().get("status", "starting"))
        if progress and status != shown:
            print(f"matching: {status}...", file=sys.stderr, flush=True)
            shown = status
        if "failed" in str(ready.json().get("checks", {}).get("matching", "")):
            raise DemoError(f"image matching failed to start: {ready.json()['checks']['matching']}")
        if time.monotonic() > deadline:
            raise DemoError(f"the service was not ready after {timeout_s:.0f} s: {ready.json()}")
        time.sleep(1)


def serve(app: Any, *, host: str, port: int, when_started: Callable[[str], None]) -> None:
    """Serve the app until Ctrl-C, calling `when_started(base_url)` on another thread once it listens."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, log_level="warning"))
    failure: list[BaseException] = []

    def after_start() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.1)
        try:
            when_started(f"http://{host}:{port}")
        except BaseException as error:  # shown once the server has stopped
            if not server.should_exit:  # (after Ctrl-C a request cut short is no failure)
                failure.append(error)
                server.should_exit = True

    threading.Thread(target=after_start, name="demo", daemon=True).start()
    server.run()
    if failure:
        raise failure[0]
    if not server.started:
        raise DemoError(f"the server could not start on {host}:{port}: is the port in use? try --port")


def run(*, data_dir: Path, n: int, host: str, port: int, echo: Callable[[str], None]) -> None:
    """Fill `data_dir` (once) through the running service's API, then keep serving the console."""
    from service.api.app import create_app  # the web app and the networks load only here

    data_dir.mkdir(parents=True, exist_ok=True)
    # The demo's own SQLite database in its data directory, whatever SCANMATCH_DATABASE_URL says.
    settings = Settings(data_dir=data_dir, database_url=None, log_level="WARNING", log_format="console")
    upgrade(settings.resolved_database_url)
    sessions = make_session_factory(make_engine(settings.resolved_database_url))
    started = time.monotonic()

    def when_started(base_url: str) -> None:
        with httpx.Client(base_url=base_url, timeout=300) as client:
            keys, ids = fill(client, sessions, data_dir, n=n)
        echo(
            f"\nscanmatch demo: {len(ids)} shipments filed, every verdict computed ({time.monotonic() - started:.0f} s)"
            f"\n  console:        {base_url}/console"
            f"\n  inspector key:  {keys['inspector'].key}"
            f"\n  admin key:      {keys['admin'].key}"
            f"\n  API docs:       {base_url}/docs"
            f"\n  data:           {data_dir.resolve()} (keys in {KEYS_FILE}, readable by you alone)"
            "\nCtrl-C stops the server; running the demo again reuses this data."
        )

    echo(
        f"loading the models and starting the service on {host}:{port} (data in {data_dir}); a first start "
        "calibrates the model on generated shipments: a minute or two on a CPU"
    )
    serve(create_app(settings), host=host, port=port, when_started=when_started)
