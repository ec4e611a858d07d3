"""The whole intake story over real HTTP against `scanmatch serve`, stopped and started again."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "SCANMATCH_DATA_DIR": str(data_dir), "SCANMATCH_DATABASE_URL": database_url}
    return {**env, "SCANMATCH_MATCHING__ENABLED": "false", **extra}


@contextmanager
def served(env: dict[str, str], log: Path) -> Iterator[httpx.Client]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 180  # importing torch on a loaded 2-core machine can take a minute
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, f"server exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"server not ready in 180 s:\n{log.read_text()}"
            time.sleep(0.2)
        yield client
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=30)


def new_key(env: dict[str, str], role: str, name: str) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "service", "keys", "create", "--role", role, "--name", name, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(out.stdout))


def test_intake_over_http_survives_a_restart(tmp_path: Path, database_url: str) -> None:
    env = environment(tmp_path / "data", database_url, SCANMATCH_IMAGES__MAX_BYTES=str(200_000))
    log = tmp_path / "server.log"
    shop, carrier = new_key(env, "marketplace", "Shop"), new_key(env, "carrier", "Air Co")
    inspector, admin = new_key(env, "inspector", "Ines"), new_key(env, "admin", "Ada")
    picture, scan = image_bytes("JPEG", seed=1, size=(120, 90)), image_bytes("TIFF", mode="I;16", seed=2)

    with served(env, log) as http:
        listing = http.post(
            "/v1/filings",
            headers=auth(shop["key"]),
            files=multipart(
                marketplace_filing(shop["originator_code"], tracking="T", transmission_id="m-1"),
                product_picture=picture,
            ),
        )
        x_ray = http.post(
            "/v1/filings",
            headers=auth(carrier["key"]),
            files=multipart(carrier_filing(carrier["originator_code"], tracking="T"), security_scan=scan),
        )
        assert (listing.status_code, x_ray.status_code) == (201, 201), (listing.text, x_ray.text)
        shipment_id = listing.json()["shipment_id"]
        assert x_ray.json()["shipment_id"] == shipment_id

        seen = http.get(f"/v1/shipments/{shipment_id}", headers=auth(inspector["key"]))
        assert seen.status_code == 200
        filings = seen.json()["filings"]
        assert {f["filer_type"] for f in filings} == {"marketplace", "carrier"}
        urls = [image["url"] for f in filings for image in f["images"]]
        assert sorted(http.get(u, headers=auth(inspector["key"])).content for u in urls) == sorted([picture, scan])

        assert http.get(f"/v1/filings/{listing.json()['filing_id']}", headers=auth(carrier["key"])).status_code == 404
        assert http.get(f"/v1/shipments/{shipment_id}", headers=auth(carrier["key"])).status_code == 403

        incomplete = carrier_filing(carrier["originator_code"], tracking="T2")
        del incomplete["enhanced_description"]
        missing = http.post(
            "/v1/filings", headers=auth(carrier["key"]), files=multipart(incomplete, security_scan=scan)
        )
        assert missing.status_code == 422
        assert [e["path"] for e in missing.json()["errors"]] == ["filing.enhanced_description"]

        not_image = http.post(
            "/v1/filings",
            headers=auth(carrier["key"]),
            files=multipart(
                carrier_filing(carrier["originator_code"], tracking="T3"), security_scan=b"MZ\x90\x00 an executable"
            ),
        )
        assert not_image.status_code == 422 and not_image.json()["part"] == "security_scan"

        huge = http.post(
            "/v1/filings",
            headers=auth(carrier["key"]),
            files=multipart(
                carrier_filing(carrier["originator_code"], tracking="T4"), security_scan=image_bytes(size=(400, 400))
            ),
        )
        assert huge.status_code == 413, huge.text

        retry = http.post(
            "/v1/filings",
            headers=auth(shop["key"]),
            files=multipart(
                marketplace_filing(shop["originator_code"], tracking="T", transmission_id="m-1"),
                product_picture=picture,
            ),
        )
        assert retry.status_code == 200 and retry.json() == listing.json()
        assert len(http.get(f"/v1/shipments/{shipment_id}", headers=auth(inspector["key"])).json()["filings"]) == 2

        trail = http.get("/v1/audit", params={"shipment_id": shipment_id}, headers=auth(admin["key"])).json()
        events = {(e["participant_name"], e["action"], e["outcome"]) for e in trail}
        assert ("Ines", "shipment.read", "ok") in events
        assert ("Air Co", "shipment.read", "forbidden") in events
        before = http.get(f"/v1/shipments/{shipment_id}", headers=auth(inspector["key"])).json()

    with served(env, log) as http:
        after = http.get(f"/v1/shipments/{shipment_id}", headers=auth(inspector["key"]))
        assert after.status_code == 200 and after.json() == before
        for url in (image["url"] for f in before["filings"] for image in f["images"]):
            assert http.get(url, headers=auth(inspector["key"])).status_code == 200
        again = http.post(
            "/v1/filings",
            headers=auth(shop["key"]),
            files=multipart(
                marketplace_filing(shop["originator_code"], tracking="T", transmission_id="m-1"),
                product_picture=picture,
            ),
        )
        assert again.status_code == 200 and again.json() == listing.json()
        trail = http.get("/v1/audit", params={"shipment_id": shipment_id}, headers=auth(admin["key"])).json()
        assert ("Air Co", "shipment.read", "forbidden") in {
            (e["participant_name"], e["action"], e["outcome"]) for e in trail
        }
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    assert requests and all(line.get("request_id") for line in requests)
