"""The console's stats page and an examined shipment's page, over HTTP through the app with matching on; and the
stats plots' geometry."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from service.api.console import pages, plots
from tests.service.test_console import csrf_token, sign_in
from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart


def figure(page: str, name: str) -> str:
    found = re.search(rf'id="{name}"><span class="value">([^<]+)</span>', page)
    assert found, page
    return found.group(1)


def plot_total(page: str, name: str) -> int:
    found = re.search(rf'<title id="{name}-title">[^<]*: (\d+) in all</title>', page)
    assert found, page
    return int(found.group(1))


def test_an_examination_shows_on_its_shipment_and_in_the_stats(matching_client: TestClient, keys: Any) -> None:
    shop, courier, inspector, admin = keys("marketplace"), keys("carrier"), keys("inspector"), keys("admin")
    shipment_ids = []
    for i, tracking in enumerate(("T-ST1", "T-ST2")):
        listing = multipart(
            marketplace_filing(shop.originator_code, tracking=tracking), product_picture=image_bytes(seed=i)
        )
        sent = matching_client.post("/v1/filings", headers=auth(shop), files=listing)
        assert sent.status_code == 201, sent.text
        shipment_ids.append(sent.json()["shipment_id"])
        scan = multipart(
            carrier_filing(courier.originator_code, tracking=tracking), security_scan=image_bytes(seed=9 + i)
        )
        assert matching_client.post("/v1/filings", headers=auth(courier), files=scan).status_code == 201
    assert sign_in(matching_client, inspector.key).status_code == 303
    assert matching_client.get("/console/queue").text.count("/console/shipments/") == 2  # both verdicts computed

    before = matching_client.get("/console/stats")
    assert before.status_code == 200
    assert figure(before.text, "examinations") == "0" and figure(before.text, "precision") == "-"
    assert plot_total(before.text, "decisions-plot") == 2 and plot_total(before.text, "examinations-plot") == 0
    assert "style=" not in before.text and not re.search(r"<script(?![^>]*\bsrc=)", before.text)

    shipment = f"/console/shipments/{shipment_ids[0]}"
    page = matching_client.get(shipment)
    assert f'action="{shipment}/examinations"' in page.text and "Examined</h2>" not in page.text
    form = {"outcome": "contents_mismatch", "found_category": "sneakers", "notes": "two pairs <b>, not one"}
    recorded = matching_client.post(
        f"{shipment}/examinations", data=form | {"csrf_token": csrf_token(page)}, follow_redirects=False
    )
    assert recorded.status_code == 303, recorded.text

    examined = matching_client.get(shipment)
    assert examined.status_code == 200
    assert f'action="{shipment}/examinations"' not in examined.text, "an examined shipment offers no second form"
    assert "Examined</h2>" in examined.text and "contents mismatch" in examined.text
    assert "two pairs &lt;b&gt;, not one" in examined.text and "<b>, not one" not in examined.text
    assert matching_client.get(f"/console/shipments/{shipment_ids[1]}").text.count('name="outcome"') == 1

    api = matching_client.get("/v1/stats", headers=auth(inspector)).json()
    after = matching_client.get("/console/stats")
    assert figure(after.text, "examinations") == "1" == str(api["examinations"])
    assert figure(after.text, "precision") == pages.percent(api["precision"])
    assert figure(after.text, "recall") == pages.percent(api["recall"])
    assert plot_total(after.text, "examinations-plot") == 1 and plot_total(after.text, "decisions-plot") == 2
    assert re.search(r'<rect class="s-bad" [^>]*><title>[^<]*1 examinations contents mismatch</title>', after.text)
    assert sum(b["examinations"].get("contents_mismatch", 0) for b in api["over_time"]["buckets"]) == 1

    assert sign_in(matching_client, admin.key).status_code == 303
    assert figure(matching_client.get("/console/stats").text, "examinations") == "1"


def test_stacked_bars_are_proportional_and_stacked_in_order() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    series = [plots.Series("mismatch", "mismatch", "s-bad"), plots.Series("match", "match", "s-good")]
    buckets = [(start, {"mismatch": 2, "match": 6}), (start + timedelta(hours=1), {"match": 4, "other": 99})]
    plot = plots.stacked_bars(buckets, series, bucket_seconds=3600, unit="shipments")
    assert plot.total == 12  # counts of no listed series are left out
    assert [t.text for t in plot.y_ticks] == ["0", "2", "4", "6", "8"]
    bad, good, second = plot.rects
    assert (bad.css, good.css, second.css) == ("s-bad", "s-good", "s-good")
    assert abs(good.height - 3 * bad.height) < 0.2 and abs(second.height - 2 * bad.height) < 0.2
    assert abs(good.y + good.height - bad.y) < 0.2  # the first series at the bottom, the next on top of it
    assert abs(bad.y + bad.height - plot.bottom) < 0.2 and abs(good.y - plot.top) < 0.2  # 8 fills the height
    assert second.x > good.x and second.title == "01 Jan 01:00: 4 shipments match"
