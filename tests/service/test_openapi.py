"""The OpenAPI document: filings described as the JSON they must be, and every answer a route can give."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from tests.support import auth, carrier_filing, image_bytes, marketplace_filing, multipart

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def body_validator(spec: dict[str, Any]) -> Draft202012Validator:
    """The documented schema of POST /v1/filings' multipart body, with the document's components to resolve."""
    media = spec["paths"]["/v1/filings"]["post"]["requestBody"]["content"]["multipart/form-data"]
    return Draft202012Validator({**media["schema"], "components": spec["components"]})


def test_the_filing_part_is_documented_as_the_filing_models(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    media = spec["paths"]["/v1/filings"]["post"]["requestBody"]["content"]["multipart/form-data"]
    schemas = spec["components"]["schemas"]
    body = schemas[media["schema"]["$ref"].rsplit("/", 1)[1]]
    filing = body["properties"]["filing"]
    assert [s["$ref"] for s in filing["oneOf"]] == [
        "#/components/schemas/CarrierFiling",
        "#/components/schemas/MarketplaceFiling",
    ]
    assert filing["discriminator"]["propertyName"] == "filer_type"
    assert media["encoding"]["filing"] == {"contentType": "application/json"}
    assert media["encoding"]["security_scan"] == {"contentType": "image/jpeg, image/png, image/tiff"}
    assert body["properties"]["security_scan"]["format"] == "binary" and body["additionalProperties"] is False
    # The limits the schemas declare travel with them: column lengths, no NUL, no control characters.
    carrier = schemas["CarrierFiling"]
    assert carrier["properties"]["originator_code"]["maxLength"] == 100
    assert carrier["properties"]["originator_code"]["pattern"] == "^[^\\x00-\\x1f\\x7f]*$"
    assert carrier["properties"]["enhanced_description"]["maxLength"] == 5000
    assert carrier["properties"]["enhanced_description"]["pattern"] == "^[^\\x00]*$"
    assert schemas["Address"]["properties"]["street"]["maxLength"] == 500
    assert {"Address", "Contact", "Party", "Money", "Identifiers"} <= set(schemas)


@pytest.mark.parametrize(
    ("filer", "parts", "documented", "answered"),
    [
        ("carrier", {}, True, 201),  # by truck: no scan needed
        ("carrier_air", {}, False, 422),  # by air without the x-ray
        ("carrier", {"product_picture": image_bytes()}, False, 422),
        ("marketplace", {}, False, 422),  # no picture, listing_url or enhanced_description
        ("marketplace", {"product_picture": image_bytes()}, True, 201),
        ("marketplace", {"security_scan": image_bytes()}, False, 422),
    ],
)
def test_the_documented_body_and_intake_agree(
    client: TestClient, keys, filer: str, parts: dict[str, bytes], documented: bool, answered: int
) -> None:
    """The rules across parts (which image goes with which filer) are in the schema as intake applies them."""
    key = keys("marketplace" if filer == "marketplace" else "carrier")
    if filer == "marketplace":
        filing = marketplace_filing(key.originator_code)
    else:
        filing = carrier_filing(key.originator_code, mode="air" if filer == "carrier_air" else "truck")
    validator = body_validator(client.get("/openapi.json").json())
    assert validator.is_valid({"filing": filing, **{part: "<bytes>" for part in parts}}) is documented
    response = client.post("/v1/filings", files=multipart(filing, **parts), headers=auth(key))
    assert response.status_code == answered, response.text


def test_every_error_is_documented_with_the_error_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # FastAPI's {"detail"}: not what we answer
    operations = [(path, verb, op) for path, ops in spec["paths"].items() for verb, op in ops.items()]
    for path, verb, operation in operations:
        responses = operation["responses"]
        if path.startswith("/v1/"):
            assert {"401", "422"} <= set(responses), (verb, path)
            assert "WWW-Authenticate" in responses["401"]["headers"]
        if "requestBody" in operation:
            assert {"400", "413"} <= set(responses), (verb, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")) and path != "/readyz":
                assert response["content"]["application/json"]["schema"] == ERROR_BODY, (verb, path, status)


def test_matching_switched_off_answers_a_documented_503(client: TestClient, keys) -> None:
    """schemathesis found these two undocumented: the queue and examinations need the matcher too."""
    spec = client.get("/openapi.json").json()
    inspector = keys("inspector")
    queue = client.get("/v1/shipments", params={"order": "risk"}, headers=auth(inspector))
    examined = client.post(
        "/v1/shipments/shp_x/examinations", json={"outcome": "contents_match"}, headers=auth(inspector)
    )
    for response, path, verb in (
        (queue, "/v1/shipments", "get"),
        (examined, "/v1/shipments/{shipment_id}/examinations", "post"),
    ):
        assert response.status_code == 503 and response.json()["error"] == "matching_unavailable"
        assert "503" in spec["paths"][path][verb]["responses"]
