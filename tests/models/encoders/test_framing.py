"""X-ray framing on generated scans: contents enlarged, long axis upright, nothing dense cut off."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from models.encoders.framing import frame_xray, framing_matrix
from models.encoders.preprocess import PreprocessConfig, to_tensor
from models.generator.synthetic import generate_shipment

_DENSE = 0.35  # darker than any packaging: the goods themselves


def _dense(img: Image.Image) -> np.ndarray:
    rgb = np.asarray(img.convert("RGB"), dtype=np.float32)
    lum = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    return 1.0 - lum / 255.0 > _DENSE


def _axis_degrees(mask: np.ndarray) -> float:
    """Angle of the mask's long axis from vertical, 0..90."""
    m = cv2.moments(mask.astype(np.float32))
    theta = 0.5 * np.degrees(np.arctan2(2 * m["mu11"], m["mu20"] - m["mu02"]))  # from the x axis
    return abs(abs(theta) - 90.0)


@pytest.mark.parametrize("category", ["lighter", "smartphone", "watch", "laptop"])
def test_goods_in_a_roomy_parcel_come_out_upright_and_larger(category: str) -> None:
    scan = generate_shipment(seed=5, index=0, size=256, scenario="match", category=category).xray
    framed = frame_xray(scan)
    assert framed.size == scan.size
    assert _dense(framed).sum() > 1.3 * _dense(scan).sum()  # the same goods, drawn bigger
    assert _axis_degrees(_dense(framed)) < 10.0


@pytest.mark.parametrize("category", ["screwdriver", "pliers", "hammer", "kitchen_knife"])
def test_long_goods_come_out_upright(category: str) -> None:
    for index in range(3):
        scan = generate_shipment(seed=5, index=index, size=256, scenario="match", category=category).xray
        assert _axis_degrees(_dense(frame_xray(scan))) < 10.0


def test_nothing_dense_is_cut_off() -> None:
    # A concealed knife lies inside the declared goods' footprint: the window must keep it.
    for index in range(6):
        scan = generate_shipment(seed=23, index=index, size=256, scenario="concealment").xray
        mat = framing_matrix(np.asarray(scan))
        assert mat is not None
        # Metal shows blue on the scanner's display; carton walls, dense too at the rim, never do.
        rgb = np.asarray(scan).astype(np.int32)
        ys, xs = np.nonzero(_dense(scan) & (rgb[..., 2] > rgb[..., 0] + 40))
        assert xs.size > 50
        pts = np.stack([xs, ys, np.ones(xs.size)], axis=1) @ mat.T
        assert pts.min() >= 0 and pts.max() <= 256, f"shipment {index}: metal framed out"


def test_the_same_goods_frame_alike_across_scans() -> None:
    # Two packings of one phone: after framing, their dense silhouettes mostly overlap.
    scans = [
        generate_shipment(seed=5, index=0, size=256, scenario="match", category="smartphone", view=v).xray
        for v in (0, 1)
    ]
    a, b = (_dense(frame_xray(s)) for s in scans)
    # Upright up to a half turn: compare with the second as it is and turned over.
    iou = max((a & m).sum() / (a | m).sum() for m in (b, np.rot90(b, 2)))
    assert iou > 0.6


def test_an_empty_scan_is_left_as_it_is() -> None:
    blank = Image.new("RGB", (128, 128), (255, 255, 255))
    assert framing_matrix(np.asarray(blank)) is None
    assert np.array_equal(np.asarray(frame_xray(blank)), np.asarray(blank))


def test_framing_is_an_xray_setting() -> None:
    cfg = PreprocessConfig(image_size=64, mean=(0.5,) * 3, std=(0.5,) * 3, xray_framing="contents")
    assert PreprocessConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.for_modality("photo").xray_framing is None
    assert cfg.for_modality("xray").xray_framing == "contents"
    assert "xray_framing" not in PreprocessConfig(image_size=64, mean=(0,) * 3, std=(1,) * 3).to_dict()
    scan = generate_shipment(seed=5, index=0, size=128, scenario="match", category="screwdriver").xray
    framed, plain = to_tensor([scan], cfg), to_tensor([scan], cfg.for_modality("photo"))
    assert framed.shape == plain.shape == (1, 3, 64, 64) and not torch.equal(framed, plain)
    with pytest.raises(ValueError, match="xray_framing"):
        PreprocessConfig(image_size=64, mean=(0,) * 3, std=(1,) * 3, xray_framing="centre")
