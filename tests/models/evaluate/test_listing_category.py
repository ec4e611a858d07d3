from __future__ import annotations

import re

import pytest

from models.encoders.registry import ARTIFACTS_DIR, DEFAULT_ENCODER
from models.evaluate.listing_category import main


def test_listing_category_reports_the_three_kinds_of_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--artifact", str(ARTIFACTS_DIR / DEFAULT_ENCODER), "--n", "8", "--seed", "31"]) == 0
    rows = dict(re.findall(r"^\| ([A-Za-z +(),]+) \| ([0-9.]+) \|$", capsys.readouterr().out, flags=re.M))
    assert set(rows) == {"photo", "text", "photo + text", "photo + text, ImageNet classifier where sure (the service)"}
    # The shipped model names most listings right from photo and text together, and the service's
    # rule, which lets the ImageNet classifier name a photo it is sure of, keeps that.
    assert float(rows["photo + text"]) >= 0.75
    assert float(rows["photo + text, ImageNet classifier where sure (the service)"]) >= 0.75
