"""The OpenAPI document: FastAPI's, completed with what the routes' signatures cannot show it.

POST /v1/filings reads its parts itself: the `filing` part as text, parsed by the domain with its own byte
and depth limits and every problem listed by path (service.domain.filings.parse), the image parts as bytes
recognised by their content. FastAPI sees a string and two optional files. Client generators and fuzzers
need more: here the `filing` part is documented as the filing models, sent as `application/json` (OpenAPI
3.1 multipart `encoding`), the models join the document's components, the image parts name the image
types read, and no other part is allowed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import Field, TypeAdapter

from service.domain.actors import CARRIER_LIKE
from service.domain.filing_schema import (
    IMAGE_PARTS,
    MAX_FILING_BYTES,
    MAX_FILING_DEPTH,
    CarrierFiling,
    MarketplaceFiling,
)
from service.domain.images import CONTENT_TYPES

REF = "#/components/schemas/{model}"
# The schema a filing follows is named by its filer_type.
FilingDocument = Annotated[CarrierFiling | MarketplaceFiling, Field(discriminator="filer_type")]
FILING_PART = (
    "the filing, as JSON: a CarrierFiling (carriers, brokers, forwarders) or a MarketplaceFiling, as its "
    f"`filer_type` says; at most {MAX_FILING_BYTES // 1024} KiB, nested at most {MAX_FILING_DEPTH} levels"
)


def _filing(**properties: Any) -> dict[str, Any]:
    return {"properties": {"filing": {"properties": properties}}}


def _filing_gives(element: str) -> dict[str, Any]:
    return {"properties": {"filing": {"required": [element], "properties": {element: {"type": "string"}}}}}


# Which image part goes with which filer, as service.domain.filings checks it (`_part_errors`), in JSON Schema.
PART_RULES = [
    {
        "description": "carriers, brokers, forwarders: a security_scan, mandatory by air; never a product_picture",
        "allOf": [
            _filing(filer_type={"enum": list(CARRIER_LIKE)}),
            {"not": {"required": ["product_picture"]}},
            {"anyOf": [_filing(mode={"not": {"const": "air"}}), {"required": ["security_scan"]}]},
        ],
    },
    {
        "description": "marketplaces: a product_picture, listing_url or enhanced_description; never a security_scan",
        "allOf": [
            _filing(filer_type={"const": "marketplace"}),
            {"not": {"required": ["security_scan"]}},
            {
                "anyOf": [
                    {"required": ["product_picture"]},
                    _filing_gives("listing_url"),
                    _filing_gives("enhanced_description"),
                ]
            },
        ],
    },
]


def install(app: FastAPI) -> None:
    derived = app.openapi

    def completed() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = derived()
            body = multipart_body(document, "/v1/filings", "post")
            json_part(document, body, "filing", shape=FilingDocument, description=FILING_PART)
            for part in IMAGE_PARTS:
                file_part(body, part, content_types=sorted(set(CONTENT_TYPES.values())))
            body.schema["additionalProperties"] = False  # an unknown part is refused, never ignored
            body.schema["oneOf"] = PART_RULES
        assert app.openapi_schema is not None  # set, and cached, by FastAPI's own openapi()
        return app.openapi_schema

    app.openapi = completed  # type: ignore[method-assign]


class MultipartBody:
    """An operation's multipart/form-data media type and the schema of its body, as found in the document."""

    def __init__(self, media: dict[str, Any], schema: dict[str, Any]) -> None:
        self.media, self.schema = media, schema

    def encode(self, part: str, content_type: str) -> None:
        self.media.setdefault("encoding", {})[part] = {"contentType": content_type}


def multipart_body(document: dict[str, Any], path: str, method: str) -> MultipartBody:
    media = document["paths"][path][method]["requestBody"]["content"]["multipart/form-data"]
    name = media["schema"]["$ref"].removeprefix(REF.format(model=""))
    return MultipartBody(media, document["components"]["schemas"][name])


def json_part(document: dict[str, Any], body: MultipartBody, part: str, *, shape: Any, description: str) -> None:
    """Document a part as the JSON schema of `shape` (its models join the components), sent as JSON."""
    components = document["components"]["schemas"]
    schema = TypeAdapter(shape).json_schema(ref_template=REF)
    for name, definition in schema.pop("$defs", {}).items():
        if components.setdefault(name, definition) != definition:
            raise RuntimeError(f"two different schemas are named {name} in the OpenAPI document: rename one")
    body.schema["properties"][part] = schema | {"description": description}
    body.encode(part, "application/json")


def file_part(body: MultipartBody, part: str, *, content_types: list[str]) -> None:
    """Document an optional file part: bytes of one of `content_types` (FastAPI says `anyOf: [file, null]`,
    but a part is sent or not, never null)."""
    documented = body.schema["properties"][part]
    body.schema["properties"][part] = {
        "type": "string",
        "format": "binary",
        "description": documented.get("description", ""),
    }
    body.encode(part, ", ".join(content_types))
