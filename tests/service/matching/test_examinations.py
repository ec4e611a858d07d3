"""Examinations feed back: the x-ray joins the gallery, statistics score verdicts, the queue ranks by risk."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.service.matching.test_verdicts import file_shipment, first
from tests.support import auth


def audited(client: TestClient, admin: Any, action: str) -> list[tuple[str, str | None, str | None]]:
    """(outcome, shipment_id, detail) of the audit events of `action`, oldest first."""
    trail = client.get("/v1/audit", headers=auth(admin)).json()
    return [(e["outcome"], e["shipment_id"], e["detail"]) for e in reversed(trail) if e["action"] == action]


def test_examination_labels_the_xray_and_scores_the_verdict(matching_client: TestClient, keys: Any) -> None:
    inspector, admin = keys("inspector"), keys("admin")
    knife = first("concealment", hidden="kitchen_knife")
    shipment_id = file_shipment(matching_client, keys, knife, "T-EXAM")
    verdict = matching_client.get(f"/v1/shipments/{shipment_id}/verdict", headers=auth(inspector)).json()
    recorded = matching_client.post(
        f"/v1/shipments/{shipment_id}/examinations",
        json={"outcome": "prohibited_item", "found_category": "kitchen_knife", "notes": "knife in the lining"},
        headers=auth(inspector),
    )
    assert recorded.status_code == 201, recorded.text
    body = recorded.json()
    assert body["joined_gallery"] and body["verdict_decision"] == verdict["decision"]
    assert audited(matching_client, admin, "verdict.read") == [("ok", shipment_id, verdict["decision"])]
    assert audited(matching_client, admin, "examination.create") == [
        ("ok", shipment_id, "prohibited_item kitchen_knife")
    ]
    # The labelled x-ray now answers for look-alikes: the same scan filed again resembles a knife.
    scan = matching_client.get(f"/v1/shipments/{shipment_id}", headers=auth(inspector)).json()["filings"][1]["images"][
        0
    ]["url"]
    copy_id = file_shipment(
        matching_client,
        keys,
        first("match"),
        "T-LOOKALIKE",
        scan=matching_client.get(scan, headers=auth(inspector)).content,
    )
    copy = matching_client.get(f"/v1/shipments/{copy_id}/verdict", headers=auth(inspector)).json()
    assert "kitchen_knife" in [c["category"] for c in copy["image_match"]["xray_looks_like"]]
    stats = matching_client.get("/v1/stats", headers=auth(admin)).json()
    assert stats["examinations"] == 1 and stats["by_outcome"] == {"prohibited_item": 1}
    flagged = verdict["decision"] == "mismatch"
    assert (stats["true_positives"], stats["false_negatives"]) == (
        (1, 0) if flagged else (0, int(verdict["decision"] == "match"))
    )


def test_bad_examinations_are_refused(matching_client: TestClient, keys: Any) -> None:
    inspector = keys("inspector")
    shipment_id = file_shipment(matching_client, keys, first("match"), "T-BAD")
    bad = matching_client.post(
        f"/v1/shipments/{shipment_id}/examinations", json={"outcome": "looked fine"}, headers=auth(inspector)
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "outcome"
    unknown = matching_client.post(
        "/v1/shipments/shp_nope/examinations", json={"outcome": "contents_match"}, headers=auth(inspector)
    )
    assert unknown.status_code == 404
    carrier = matching_client.post(
        f"/v1/shipments/{shipment_id}/examinations", json={"outcome": "contents_match"}, headers=auth(keys("carrier"))
    )
    assert carrier.status_code == 403
    assert audited(matching_client, keys("admin"), "examination.create") == [
        ("invalid_request", None, "the request has 1 problem(s): outcome"),  # refused by its schema: audited too
        ("not_found", "shp_nope", "no shipment shp_nope"),
        ("forbidden", shipment_id, "carrier keys may not examination.create; it is for inspector keys"),
    ]


def test_queue_ranks_pending_shipments_by_risk(matching_client: TestClient, keys: Any) -> None:
    inspector = keys("inspector")
    ids = [
        file_shipment(matching_client, keys, first("match"), "T-Q1"),
        file_shipment(matching_client, keys, first("substitution"), "T-Q2"),
        file_shipment(matching_client, keys, first("match", category="book"), "T-Q3", carrier=False),
    ]
    queue = matching_client.get("/v1/shipments", params={"order": "risk", "status": "pending"}, headers=auth(inspector))
    assert queue.status_code == 200, queue.text
    items = queue.json()
    assert sorted(i["shipment_id"] for i in items) == sorted(ids)
    assert [i["risk"] for i in items] == sorted((i["risk"] for i in items), reverse=True)
    assert audited(matching_client, keys("admin"), "shipment.queue") == [("ok", None, "3 shipments")]
    matching_client.post(
        f"/v1/shipments/{ids[0]}/examinations", json={"outcome": "contents_match"}, headers=auth(inspector)
    )
    pending = matching_client.get(
        "/v1/shipments", params={"order": "risk", "status": "pending"}, headers=auth(inspector)
    ).json()
    assert ids[0] not in {i["shipment_id"] for i in pending}
    # without an identifier, the queue's own parameters ask for the queue (issue 20, finding 5: was a 422)
    alone = matching_client.get("/v1/shipments", params={"status": "pending"}, headers=auth(inspector))
    assert alone.status_code == 200 and alone.json() == pending, alone.text
    by_tracking = matching_client.get(
        "/v1/shipments", params={"status": "pending", "tracking_number": "T-Q2"}, headers=auth(inspector)
    ).json()
    assert [s["shipment_id"] for s in by_tracking] == [ids[1]] and "filings" in by_tracking[0]  # a search
