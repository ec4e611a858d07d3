from __future__ import annotations

import re

import pytest

from models.encoders.registry import ARTIFACTS_DIR, DEFAULT_ENCODER
from models.evaluate.listing_category import main


def test_listing_category_reports_the_three_kinds_of_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--artifact", str(ARTIFACTS_DIR / DEFAULT_ENCODER), "--n", "8", "--seed", "31"]) == 0
    rows = dict(re.findall(r"^\| ([a-z +()]+) \| ([0-9.]+) \|$", capsys.readouterr().out, flags=re.M))
    assert set(rows) == {"photo", "text", "photo + text (the service)"}
    # The shipped model names most listings right from photo and text together.
    assert float(rows["photo + text (the service)"]) >= 0.75
