"""The console in a real browser: Playwright drives Debian's chromium against `scanmatch demo` run as a process.

As an inspector: sign in, the queue by risk, the top shipment with both images drawn, its reasons and checks,
the negative view (and the where-to-look overlay), an examination recorded, the shipment gone from the pending
queue and the stats page moved. A carrier's key is refused; a seller name holding <script> shows as text; a
form posted without its CSRF token is refused. With SCANMATCH_SCREENSHOTS=1 the walk saves the README's
screenshots of the queue and of a shipment page under docs/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, sync_playwright

from service import demo
from tests.service.test_serve import free_port
from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart

pytestmark = pytest.mark.browser

SHIPMENTS = 12  # one of every generator scenario, an air listing without a scan, a reused x-ray and photo
# The first start calibrates the model on generated pairs (settings: matching.calibration_pairs, 400). The test
# walks the pages on a 40-pair calibration to start in a minute; the README's screenshots show the demo as a
# user gets it, on the full calibration.
SCREENSHOTS = os.environ.get("SCANMATCH_SCREENSHOTS") == "1"
CALIBRATION_PAIRS = None if SCREENSHOTS else "40"
READY_S = 900  # importing torch and calibrating on a loaded 2-core machine
DOCS = Path(__file__).parents[2] / "docs"
VIEWPORT = {"width": 1400, "height": 900}


@dataclass(frozen=True)
class Demo:
    url: str
    keys: dict[str, demo.DemoKey]
    log: Path

    def api(self, role: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=auth(self.keys[role].key), timeout=120)


def chromium() -> str:
    """Debian's chromium (scripts/setup.sh installs it); Playwright's own browser downloads are not used."""
    found = os.environ.get("SCANMATCH_CHROMIUM") or shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: run scripts/setup.sh (it installs Debian's chromium package)")
    return found


@pytest.fixture(scope="module")
def running_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`scanmatch demo` as a user starts it, on its own data directory and a free port, until every verdict is in."""
    data_dir = tmp_path_factory.mktemp("demo")
    log = data_dir / "demo.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCANMATCH_")}
    env["PYTHONUNBUFFERED"] = "1"
    if CALIBRATION_PAIRS:
        env["SCANMATCH_MATCHING__CALIBRATION_PAIRS"] = CALIBRATION_PAIRS
    command = [sys.executable, "-m", "service", "demo", "--shipments", str(SHIPMENTS), "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--data-dir", str(data_dir / "data")], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + READY_S
        while "every verdict computed" not in log.read_text(errors="replace"):
            assert process.poll() is None, f"scanmatch demo exited:\n{log.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"scanmatch demo not ready in {READY_S} s:\n{log.read_text()}"
            time.sleep(0.5)
        stored = json.loads((data_dir / "data" / demo.KEYS_FILE).read_text())
        yield Demo(f"http://127.0.0.1:{port}", {role: demo.DemoKey(**key) for role, key in stored.items()}, log)
    finally:
        process.terminate()
        process.wait(timeout=60)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium())
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile per test: no cookie carries over."""
    opened = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    yield opened
    opened.close()


def signed_in(page: Page, running_demo: Demo, role: str) -> None:
    page.goto(f"{running_demo.url}/console")
    assert page.url.endswith("/console/sign-in")
    page.fill("#key", running_demo.keys[role].key)
    page.click("form[action='/console/sign-in'] button")


def screenshot(page: Page, name: str, *, height: int = VIEWPORT["height"]) -> None:
    if SCREENSHOTS:
        clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height}
        page.screenshot(path=str(DOCS / name), full_page=True, clip=clip)  # type: ignore[arg-type]


def pending(running_demo: Demo) -> list[dict[str, Any]]:
    with running_demo.api("inspector") as api:
        answer = api.get("/v1/shipments", params={"order": "risk", "status": "pending", "limit": 500})
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def examinations_recorded(page: Page, running_demo: Demo) -> int:
    page.goto(f"{running_demo.url}/console/stats")
    return int(page.inner_text("#examinations .value"))


def xray_pixel(page: Page) -> list[int]:
    """The x-ray canvas's pixel at its centre, as drawn now."""
    script = """() => {
      const canvas = document.querySelector("figure.viewer[data-kind=xray] canvas");
      const context = canvas.getContext("2d");
      return Array.from(context.getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data);
    }"""
    return list(page.evaluate(script))


def toggle_where_to_look_overlay(page: Page) -> None:
    """Switch the x-ray's where-to-look overlay on: its layer is drawn on the stage (so it zooms and pans with
    the scan), the map shown is named, a map can be chosen; switched off, the layer hides."""
    xray = "figure.viewer[data-kind=xray]"
    page.check(f"{xray} input[data-overlay]")
    page.wait_for_selector(f"{xray}[data-overlay]", timeout=120_000)  # set once a map is drawn (computed on request)
    layer = page.locator(f"{xray} .stage canvas.where-to-look")
    assert layer.is_visible()
    drawn = layer.evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return [c.width, n]; }"
    )
    assert drawn[0] > 0 and drawn[1] > 0, drawn  # a sized layer with painted cells
    choices = page.locator(f"{xray} select[data-overlay-map] option").evaluate_all("os => os.map(o => o.value)")
    assert page.get_attribute(xray, "data-overlay") in choices and "mismatch" in choices, choices
    assert "yellow ring" in page.inner_text(f"{xray} [data-overlay-note]")
    page.uncheck(f"{xray} input[data-overlay]")
    assert layer.is_hidden()


def test_an_inspector_works_the_queue_in_a_browser(context: BrowserContext, running_demo: Demo) -> None:
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    signed_in(page, running_demo, "inspector")
    page.wait_for_url("**/console/queue")
    before = examinations_recorded(page, running_demo)
    page.goto(f"{running_demo.url}/console/queue")

    risks = [float(r) for r in page.locator("table.queue td.risk span").all_inner_texts()]
    queued = pending(running_demo)
    assert len(risks) == len(queued) >= SHIPMENTS - 1
    assert risks == sorted(risks, reverse=True) and risks[0] > risks[-1]
    screenshot(page, "console-queue.png")

    page.locator("table.queue tbody tr").first.locator("a[href^='/console/shipments/']").click()
    page.wait_for_url("**/console/shipments/shp_*")
    shipment_id = page.url.rsplit("/", 1)[-1]
    assert shipment_id == queued[0]["shipment_id"]
    page.wait_for_function("document.querySelectorAll('figure.viewer[data-loaded=true]').length === 2")
    sizes = page.eval_on_selector_all(
        "figure.viewer",
        "figures => figures.map(f => [f.dataset.kind, +f.dataset.naturalWidth, f.querySelector('canvas').width])",
    )
    assert {kind for kind, _, _ in sizes} == {"photo", "xray"}
    assert all(natural > 0 and drawn == natural for _, natural, drawn in sizes), sizes
    with running_demo.api("inspector") as api:
        verdict = api.get(f"/v1/shipments/{shipment_id}/verdict").json()
    reasons = page.locator("ul.reasons li").all_inner_texts()
    assert reasons == verdict["reasons"] and reasons
    rows = page.locator("table.checks tbody tr")
    assert rows.count() == len(verdict["structured"]["checks"]) > 0
    results = rows.locator("td:nth-child(2)").all_inner_texts()
    assert results == sorted(results, key=lambda r: r != "failed"), "failed checks first"
    screenshot(page, "console-shipment.png", height=1500)  # the images, the reasons and the checks

    plain = xray_pixel(page)
    page.check("figure.viewer[data-kind=xray] input[data-filter=negative]")
    inverted = xray_pixel(page)
    assert [255 - v for v in plain[:3]] == inverted[:3], (plain, inverted)
    page.uncheck("figure.viewer[data-kind=xray] input[data-filter=negative]")
    assert xray_pixel(page) == plain
    toggle_where_to_look_overlay(page)

    page.select_option("select[name=outcome]", "prohibited_item")
    page.fill("input[name=found_category]", "kitchen_knife")
    page.fill("textarea[name=notes]", "a knife under the foam")
    page.click("section.examine button")
    page.wait_for_url(f"**?recorded={shipment_id}")
    assert f"Examination of {shipment_id} recorded" in page.inner_text("p.notice")

    page.goto(f"{running_demo.url}/console/queue")
    links = page.locator("table.queue a[href^='/console/shipments/']").evaluate_all("links => links.map(a => a.href)")
    assert len(links) == len(queued) - 1 and not any(link.endswith(shipment_id) for link in links)
    assert shipment_id not in {item["shipment_id"] for item in pending(running_demo)}
    assert examinations_recorded(page, running_demo) == before + 1
    assert (page.locator("#examinations-plot-title").text_content() or "").endswith(f"{before + 1} in all")
    page.goto(f"{running_demo.url}/console/shipments/{shipment_id}")
    assert "prohibited item" in page.inner_text("section.examined") and page.locator("section.examine").count() == 0
    assert problems == [], problems


def test_a_carrier_key_is_refused(context: BrowserContext, running_demo: Demo) -> None:
    page = context.new_page()
    signed_in(page, running_demo, "carrier")
    assert page.url.endswith("/console/sign-in")
    assert "carrier keys cannot sign in" in page.inner_text("p.problem")
    assert not [c for c in context.cookies() if c["name"] == "scanmatch_console"]
    page.goto(f"{running_demo.url}/console/queue")
    assert page.url.endswith("/console/sign-in")


def test_a_seller_name_holding_a_script_renders_as_text(context: BrowserContext, running_demo: Demo) -> None:
    hostile = "<script>window.pwned = true; alert('seller')</script>Evil Seller"
    shop, courier = running_demo.keys["marketplace"], running_demo.keys["carrier"]
    assert shop.originator_code and courier.originator_code
    seller = {"name": hostile, "address": {"street": "1 Harbour Rd", "city": "Shenzhen", "country": "CN"}}
    listing = marketplace_filing(shop.originator_code, tracking="T-SCRIPT", seller=seller)
    with running_demo.api("marketplace") as api:
        sent = api.post("/v1/filings", files=multipart(listing, product_picture=image_bytes("JPEG", seed=5)))
    assert sent.status_code == 201, sent.text
    scan = multipart(carrier_filing(courier.originator_code, tracking="T-SCRIPT"), security_scan=image_bytes(seed=6))
    with running_demo.api("carrier") as api:
        assert api.post("/v1/filings", files=scan).status_code == 201

    page = context.new_page()
    dialogs: list[str] = []

    def opened(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", opened)
    signed_in(page, running_demo, "inspector")
    page.wait_for_url("**/console/queue")
    page.goto(f"{running_demo.url}/console/shipments/{sent.json()['shipment_id']}")
    shown = page.locator("table.elements tr", has=page.locator("th", has_text="seller.name")).locator("td")
    assert shown.inner_text() == hostile
    assert page.evaluate("window.pwned") is None and dialogs == []


def test_a_form_post_without_its_csrf_token_is_refused(context: BrowserContext, running_demo: Demo) -> None:
    page = context.new_page()
    signed_in(page, running_demo, "inspector")
    page.wait_for_url("**/console/queue")
    shipment_id = pending(running_demo)[-1]["shipment_id"]
    page.goto(f"{running_demo.url}/console/shipments/{shipment_id}")
    page.eval_on_selector("section.examine input[name=csrf_token]", "input => input.remove()")
    with page.expect_response(f"**/console/shipments/{shipment_id}/examinations") as posted:
        page.click("section.examine button")
    assert posted.value.status == 403
    assert "CSRF token is missing or stale" in page.inner_text("p.problem")
    assert shipment_id in {item["shipment_id"] for item in pending(running_demo)}  # nothing was recorded
