from __future__ import annotations

import re

import pytest

from models.encoders.registry import ARTIFACTS_DIR, DEFAULT_ENCODER
from models.evaluate.listing_category import main


def test_listing_category_reports_the_three_kinds_of_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--artifact", str(ARTIFACTS_DIR / DEFAULT_ENCODER), "--n", "8", "--seed", "31"]) == 0
    rows = dict(re.findall(r"^\| ([A-Za-z +(),:']+) \| ([0-9.]+) \|$", capsys.readouterr().out, flags=re.M))
    service = "photo + text: words and the ImageNet classifier fused (the service)"
    words = "text, the sentence encoder's reading of the words"
    assert set(rows) == {"photo", "text", "photo + text", words, service}
    # The shipped model names most listings right from photo and text together; the untouched
    # sentence encoder reads the listing's words as well, and the service's fusion keeps that.
    assert float(rows["photo + text"]) >= 0.75
    assert float(rows[words]) >= 0.75
    assert float(rows[service]) >= 0.75
