"""Sustained intake at the machine's limit: memory, verdict lag, a clean SIGTERM, every verdict after restart.

python -m benchmarks.soak [--minutes 30] [--clients 8] [--rate 0] [--warm-up 2] [--database-url URL] [--json OUT]

Starts `scanmatch serve` (matching on, the shipped encoder) on a fresh data folder, then files from
--clients threads as fast as the server answers for --minutes: each shipment a carrier filing with its
x-ray and a marketplace filing with its product picture (--rate: paced to that many filings a second
in all, e.g. what the embedder carries, instead of as fast as intake answers). Every 15 s it samples
the server's resident memory, the filings accepted, and from /metrics the embedding backlog, the
verdict lag and the refresh queue. Then it sends SIGTERM and times the exit, restarts the server, and
times how long until every shipment has a verdict stored, counted in the database with nobody
reading a verdict.

Pass/fail lines: memory after the warm-up grows by less than 50 MB; SIGTERM exits within 30 s; after the
restart every shipment gets its verdict.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from benchmarks.bench_service import Server
from service.db.engine import make_engine
from service.db.tables import Shipment, Verdict

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart  # noqa: E402

GAUGES = ("scanmatch_embedding_backlog", "scanmatch_verdict_lag_seconds", "scanmatch_verdict_refresh_queue")
MEMORY_BOUND_MB = 50
EXIT_BOUND_S = 30


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def gauges(client: httpx.Client) -> dict[str, float]:
    text = client.get("/metrics").text
    return {
        name: float(m.group(1)) if (m := re.search(rf"^{name} ([0-9.e+-]+)$", text, re.M)) else float("nan")
        for name in GAUGES
    }


def counts(database_url: str) -> tuple[int, int]:
    """(shipments, shipments with a stored verdict)."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        shipments = connection.scalar(
            select(func.count()).select_from(Shipment).where(Shipment.merged_into_id.is_(None))
        )
        judged = connection.scalar(select(func.count()).select_from(Verdict))
    engine.dispose()
    return int(shipments or 0), int(judged or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--rate", type=float, default=0.0, help="filings per second in all (0: as fast as the server answers)"
    )
    parser.add_argument("--warm-up", type=float, default=2.0, help="minutes before the memory baseline is taken")
    parser.add_argument("--database-url", default=None, help="default: SQLite in the temporary data folder")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="scanmatch-soak-"))
    data_dir = work / "data"
    database_url = args.database_url or f"sqlite:///{data_dir / 'scanmatch.db'}"
    data_dir.mkdir()
    server = Server(data_dir, database_url, SCANMATCH_LOG_LEVEL="WARNING")
    carrier, shop = server.key("carrier", "Soak Carrier"), server.key("marketplace", "Soak Shop")
    client = server.__enter__()
    pid = server.process.pid
    accepted, refused, delayed = [0], [0], [0]
    stop = threading.Event()
    lock = threading.Lock()

    def file(who: dict[str, str], filing: dict[str, Any], **image: bytes) -> None:
        response = http.post("/v1/filings", files=multipart(filing, **image), headers=auth(who["key"]))
        with lock:
            if response.status_code == 201:
                accepted[0] += 1
                delayed[0] += response.json().get("verdicts_delayed_s") is not None
            else:
                refused[0] += 1

    def intake(worker: int) -> None:
        i = 0
        pace = 2 * args.clients / args.rate if args.rate else 0.0  # seconds per shipment (two filings) per client
        began = time.monotonic()
        while not stop.is_set():
            if pace and (wait := began + i * pace - time.monotonic()) > 0:
                time.sleep(wait)
            tracking, seed = f"S{worker}-{i}", worker * 1_000_000 + i
            try:
                file(
                    carrier,
                    carrier_filing(carrier["originator_code"], tracking=tracking),
                    security_scan=image_bytes(seed=seed),
                )
                file(
                    shop,
                    marketplace_filing(shop["originator_code"], tracking=tracking),
                    product_picture=image_bytes(seed=seed + 500_000),
                )
            except httpx.TransportError:
                with lock:
                    refused[0] += 1
            i += 1

    http = httpx.Client(
        base_url=str(client.base_url), timeout=120, limits=httpx.Limits(max_connections=args.clients + 2)
    )
    threads = [threading.Thread(target=intake, args=(w,), daemon=True) for w in range(args.clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    samples: list[dict[str, float]] = []
    print(f"{'min':>6} {'filings':>8} {'/s':>6} {'RSS MB':>8} {'backlog':>8} {'lag s':>8} {'queue':>6}")
    while (elapsed := time.monotonic() - began) < args.minutes * 60:
        time.sleep(min(15.0, args.minutes * 60 - elapsed))
        elapsed = time.monotonic() - began
        g = gauges(client)
        sample = {
            "minute": elapsed / 60,
            "filings": accepted[0],
            "rss_mb": rss_mb(pid),
            "backlog": g[GAUGES[0]],
            "lag_s": g[GAUGES[1]],
            "queue": g[GAUGES[2]],
        }
        samples.append(sample)
        rate = sample["filings"] / elapsed
        print(
            f"{sample['minute']:6.1f} {sample['filings']:8.0f} {rate:6.1f} {sample['rss_mb']:8.1f} "
            f"{sample['backlog']:8.0f} {sample['lag_s']:8.1f} {sample['queue']:6.0f}",
            flush=True,
        )
    stop.set()
    for thread in threads:
        thread.join(timeout=150)
    http.close()

    baseline = next((s for s in samples if s["minute"] >= args.warm_up), samples[0])
    growth = samples[-1]["rss_mb"] - baseline["rss_mb"]
    term_at = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=120)
        exit_s = time.monotonic() - term_at
    except Exception:
        server.process.kill()
        exit_s = float("inf")
    client.close()
    shipments_at_stop, judged_at_stop = counts(database_url)

    restart_at = time.monotonic()
    client = server.__enter__()  # ready once the embedding backlog is 0
    deadline = restart_at + 3 * 3600
    while (judged := counts(database_url))[1] < judged[0] and time.monotonic() < deadline:
        time.sleep(2)
    caught_up_s = time.monotonic() - restart_at
    server.__exit__(None, None, None)

    shipments, verdicts = counts(database_url)
    result = {
        "minutes": args.minutes,
        "clients": args.clients,
        "database": database_url.split(":")[0],
        "filings_accepted": accepted[0],
        "filings_refused": refused[0],
        "receipts_saying_delayed": delayed[0],
        "filings_per_s": accepted[0] / (args.minutes * 60),
        "rss_mb_after_warm_up": baseline["rss_mb"],
        "rss_mb_at_end": samples[-1]["rss_mb"],
        "rss_growth_mb": growth,
        "max_lag_s": max(s["lag_s"] for s in samples),
        "max_backlog": max(s["backlog"] for s in samples),
        "sigterm_exit_s": exit_s,
        "verdicts_at_stop": f"{judged_at_stop}/{shipments_at_stop}",
        "restart_until_every_verdict_s": caught_up_s,
        "verdicts_after_restart": f"{verdicts}/{shipments}",
        "samples": samples,
    }
    print()
    print(
        f"filings accepted {accepted[0]:,} ({result['filings_per_s']:.1f}/s), refused {refused[0]}, "
        f"receipts saying delayed {delayed[0]:,}"
    )
    print(
        f"memory after {args.warm_up:g} min warm-up {baseline['rss_mb']:.0f} MB, at end "
        f"{samples[-1]['rss_mb']:.0f} MB: growth {growth:+.1f} MB "
        f"({'PASS' if growth < MEMORY_BOUND_MB else 'FAIL'} < {MEMORY_BOUND_MB} MB)"
    )
    print(f"max verdict lag {result['max_lag_s']:.0f} s, max embedding backlog {result['max_backlog']:.0f}")
    print(
        f"SIGTERM exit {exit_s:.1f} s ({'PASS' if exit_s < EXIT_BOUND_S else 'FAIL'} < {EXIT_BOUND_S} s); "
        f"verdicts stored at stop {judged_at_stop}/{shipments_at_stop}"
    )
    print(
        f"after restart: every verdict in {caught_up_s:.0f} s: {verdicts}/{shipments} "
        f"({'PASS' if verdicts == shipments else 'FAIL'})"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
