"""Builders shared by the tests: valid filings per PIA 2.1 and real encoded images."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from PIL import Image

ADDRESS = {"street": "1 Harbour Rd", "city": "Shenzhen", "postal_code": "518000", "country": "CN"}
US_ADDRESS = {"street": "12 Elm St", "city": "Springfield", "postal_code": "62701", "region": "IL", "country": "US"}


def carrier_filing(originator_code: str, *, tracking: str | None = "T1", mode: str = "air", **extra: Any) -> dict:
    filing: dict[str, Any] = {
        "originator_code": originator_code,
        "filer_type": "carrier",
        "identifiers": {"tracking_number": tracking} if tracking else {},
        "mode": mode,
        "shipment_initiator": {"name": "Shenzhen Gadget Co", "address": ADDRESS},
        "final_deliver_to": {"name": "Pat Doe", "address": US_ADDRESS},
        "enhanced_description": "smartphone, 6.1 inch, 128 GB, black, with charging cable",
        "known_carrier_customer": True,
    }
    filing.update(extra)
    return filing


def marketplace_filing(originator_code: str, *, tracking: str | None = "T1", mode: str = "air", **extra: Any) -> dict:
    filing: dict[str, Any] = {
        "originator_code": originator_code,
        "filer_type": "marketplace",
        "identifiers": {"tracking_number": tracking} if tracking else {},
        "mode": mode,
        "seller": {"name": "Gadget Store", "address": ADDRESS, "phone": "+86 755 1234 5678"},
        "final_deliver_to": {"name": "Pat Doe", "address": US_ADDRESS},
        "known_marketplace_seller": False,
        "seller_id": "S-1001",
        "listed_price": {"amount": "199.00", "currency": "USD"},
        "buyer": {"name": "Pat Doe", "address": US_ADDRESS, "email": "pat@example.org"},
    }
    filing.update(extra)
    return filing


def image_bytes(fmt: str = "PNG", *, size: tuple[int, int] = (64, 48), mode: str = "RGB", seed: int = 0) -> bytes:
    """A real encoded image with random content (distinct seeds give distinct sha256s)."""
    rng = np.random.default_rng(seed)
    width, height = size
    if mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65535, (height, width), dtype=np.uint16))
    elif mode == "L":
        image = Image.fromarray(rng.integers(0, 255, (height, width), dtype=np.uint8))
    else:
        image = Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def multipart(filing: dict, **images: bytes) -> dict[str, Any]:
    """httpx `files=` for POST /v1/filings: the JSON part plus named image parts."""
    files: dict[str, Any] = {"filing": (None, json.dumps(filing), "application/json")}
    for part, data in images.items():
        files[part] = (f"{part}.bin", data, "application/octet-stream")
    return files


def auth(key: Any) -> dict[str, str]:
    """Headers for an issued key (anything with a `.key`, or the key string)."""
    return {"Authorization": f"Bearer {getattr(key, 'key', key)}"}
