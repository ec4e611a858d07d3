"""The service under load, over real HTTP against `scanmatch serve`: intake, verdict latency, index size.

python benchmarks/bench_service.py [--filings 48] [--concurrency 8] [--sizes 10000 100000]
                                   [--database-url URL] [--encoder NAME]

Prints three tables: intake throughput with images (cross-request batching on and off), verdict
latency p50/p99 under concurrent requests, and verdict latency with 10k and 100k vectors indexed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import insert

from models.generator.synthetic import generate_shipment
from service.db.engine import make_engine
from service.db.migrate import upgrade
from service.db.tables import Embedding, StoredImage
from service.settings import Matching

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support import auth, carrier_filing, marketplace_filing, multipart  # noqa: E402


def encoded(image: object, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)  # type: ignore[attr-defined]
    return out.getvalue()


class Server:
    def __init__(self, data_dir: Path, database_url: str, **env: str) -> None:
        self.env = {**os.environ, "SCANMATCH_DATA_DIR": str(data_dir), "SCANMATCH_DATABASE_URL": database_url,
                    "SCANMATCH_LOG_LEVEL": "WARNING", **env}
        self.port = 8700 + os.getpid() % 200
        self.log = data_dir.parent / f"{data_dir.name}.log"

    def key(self, role: str, name: str) -> dict[str, str]:
        out = subprocess.run([sys.executable, "-m", "service", "keys", "create", "--role", role, "--name", name,
                              "--json"], env=self.env, capture_output=True, text=True, check=True)
        return dict(json.loads(out.stdout))

    def __enter__(self) -> httpx.Client:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "service", "serve", "--port", str(self.port)],
                                            env=self.env, stdout=log, stderr=log)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=300)
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            try:
                ready = self.client.get("/readyz")
                if ready.status_code == 200 and ready.json().get("embedding_backlog") == 0:
                    return self.client
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise RuntimeError("server did not become ready")

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            print(self.log.read_text()[-4000:], file=sys.stderr)
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=120)


def percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50) * 1000), float(np.percentile(samples, 99) * 1000)


def intake(args: argparse.Namespace, batch: int, workdir: Path) -> tuple[float, float, float, float]:
    server = Server(workdir / f"intake-{batch}", args.database_url or f"sqlite:///{workdir}/intake-{batch}.db",
                    SCANMATCH_MATCHING__MAX_BATCH_SIZE=str(batch), SCANMATCH_MATCHING__ENCODER=args.encoder)
    shop, courier, inspector = server.key("marketplace", "S"), server.key("carrier", "C"), server.key("inspector", "I")
    shipments = [generate_shipment(seed=31, index=i) for i in range(args.filings)]
    bodies = []
    for i, s in enumerate(shipments):
        market = marketplace_filing(shop["originator_code"], tracking=f"B{i}", enhanced_description=s.title)
        bodies.append((shop, multipart(market, product_picture=encoded(s.photo, "JPEG"))))
        carrier = carrier_filing(courier["originator_code"], tracking=f"B{i}", enhanced_description=s.title)
        bodies.append((courier, multipart(carrier, security_scan=encoded(s.xray, "PNG"))))
    with server as client:
        def send(item: tuple[dict[str, str], dict[str, object]]) -> str:
            response = client.post("/v1/filings", headers=auth(item[0]["key"]), files=item[1])
            response.raise_for_status()
            return str(response.json()["shipment_id"])

        start = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            ids = sorted(set(pool.map(send, bodies)))
        accepted = time.perf_counter() - start
        while client.get("/readyz").json().get("embedding_backlog"):
            time.sleep(0.2)
        embedded = time.perf_counter() - start

        def read(shipment_id: str) -> float:
            t = time.perf_counter()
            client.get(f"/v1/shipments/{shipment_id}/verdict", headers=auth(inspector["key"])).raise_for_status()
            return time.perf_counter() - t

        with ThreadPoolExecutor(args.concurrency) as pool:
            latencies = list(pool.map(read, ids * 3))
    p50, p99 = percentiles(latencies)
    return len(bodies) / accepted, len(bodies) / embedded, p50, p99


def at_scale(args: argparse.Namespace, n: int, workdir: Path) -> tuple[float, float, str]:
    url = args.database_url or f"sqlite:///{workdir}/scale-{n}.db"
    upgrade(url)
    server = Server(workdir / f"scale-{n}", url, SCANMATCH_MATCHING__ENCODER=args.encoder)
    shop, courier, inspector = server.key("marketplace", "S"), server.key("carrier", "C"), server.key("inspector", "I")
    from models.encoders.registry import load_encoder

    encoder = load_encoder(args.encoder, device="cpu")
    rng = np.random.default_rng(0)
    engine = make_engine(url)
    with engine.begin() as connection:
        for start in range(0, n, 5000):
            count = min(5000, n - start)
            shas = [hashlib.sha256(f"bench-{n}-{start + i}".encode()).hexdigest() for i in range(count)]
            vectors = rng.standard_normal((count, encoder.dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            connection.execute(insert(StoredImage), [dict(sha256=s, format="PNG", mode="RGB", width=1, height=1,
                                                          size_bytes=1) for s in shas])
            connection.execute(insert(Embedding), [
                dict(image_sha256=s, modality="xray" if i % 2 else "photo", model_name=encoder.name,
                     model_sha256=encoder.identity, dim=encoder.dim, vector=v.astype("<f4").tobytes())
                for i, (s, v) in enumerate(zip(shas, vectors, strict=True))])
    engine.dispose()
    shipment = generate_shipment(seed=31, index=0)
    with server as client:
        market = marketplace_filing(shop["originator_code"], tracking="S0", enhanced_description=shipment.title)
        client.post("/v1/filings", headers=auth(shop["key"]),
                    files=multipart(market, product_picture=encoded(shipment.photo, "JPEG"))).raise_for_status()
        carrier = carrier_filing(courier["originator_code"], tracking="S0", enhanced_description=shipment.title)
        receipt = client.post("/v1/filings", headers=auth(courier["key"]),
                              files=multipart(carrier, security_scan=encoded(shipment.xray, "PNG"))).json()
        samples = []
        for _ in range(args.repeats):
            # Another filing for the shipment invalidates the cached verdict: each read recomputes it.
            client.post("/v1/filings", headers=auth(courier["key"]), files=multipart(carrier_filing(
                courier["originator_code"], tracking="S0", enhanced_description=shipment.title, mode="truck")))
            t = time.perf_counter()
            client.get(f"/v1/shipments/{receipt['shipment_id']}/verdict",
                       headers=auth(inspector["key"])).raise_for_status()
            samples.append(time.perf_counter() - t)
        kind = "exact" if n // 2 <= Matching().exact_index_max else "IVF-PQ"
    p50, p99 = percentiles(samples)
    return p50, p99, kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filings", type=int, default=48, help="shipments to send (two filings each)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file per run")
    parser.add_argument("--encoder", default=Matching().encoder)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"\nintake with images ({args.filings * 2} filings, {args.concurrency} clients, {args.encoder})")
        print("(verdicts read back by the same clients, three times each: served from the cache after the first)")
        print(f"{'max_batch_size':>15} {'accepted/s':>11} {'embedded/s':>11} {'verdict p50 ms':>15} {'p99 ms':>8}")
        for batch in (1, 16):
            accepted, embedded, p50, p99 = intake(args, batch, workdir)
            print(f"{batch:>15} {accepted:>11.1f} {embedded:>11.1f} {p50:>15.0f} {p99:>8.0f}")
        print(f"\nverdict latency by index size ({args.repeats} recomputed verdicts each)")
        print(f"{'vectors':>10} {'index':>8} {'p50 ms':>8} {'p99 ms':>8}")
        for n in args.sizes:
            p50, p99, kind = at_scale(args, n, workdir)
            print(f"{n:>10} {kind:>8} {p50:>8.0f} {p99:>8.0f}")


if __name__ == "__main__":
    main()
