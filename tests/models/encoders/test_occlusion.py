"""Occlusion copies (models.encoders.occlusion): the grey window lands on the network's input where the
image's own pixels put it, through every resize policy and the x-ray framing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from models.encoders.framing import framing_matrix
from models.encoders.occlusion import Grid, footprints, input_map, occluded
from models.encoders.preprocess import PreprocessConfig, to_tensor
from models.generator.synthetic import generate_shipment

MEAN_STD = {"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)}


def test_grid_windows_and_cell_map() -> None:
    grid = Grid(cells=4, window=2)
    boxes = grid.boxes(80, 40)
    assert grid.steps == 3 and boxes.shape == (9, 4)
    assert boxes[0].tolist() == [0, 0, 40, 20] and boxes[-1].tolist() == [40, 20, 80, 40]
    # One window changes by 1, the rest by 0: each cell gets the mean over the windows covering it.
    cells = grid.cell_map(np.eye(9)[4])  # the centre window covers the four centre cells
    assert cells[1:3, 1:3].tolist() == [[0.25, 0.25], [0.25, 0.25]]
    assert cells[0, 0] == 0 and cells[0, 1] == 0
    with pytest.raises(ValueError):
        Grid(cells=4, window=5)


@pytest.mark.parametrize("mode", ["squash", "shortest"])
def test_a_window_is_greyed_where_painting_the_image_would_grey_it(mode: str) -> None:
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (90, 150, 3), dtype=np.uint8))
    cfg = PreprocessConfig(image_size=48, resize_mode=mode, interpolation="bilinear", **MEAN_STD)
    grid = Grid(cells=5, window=1)
    batch, boxes = occluded(image, cfg, grid)
    assert batch.shape == (26, 3, 48, 48)
    assert torch.equal(batch[0], to_tensor([image], cfg)[0])
    x0, y0, x1, y1 = boxes[7].round().astype(int)  # row 1, column 2
    fill = batch[0].mean(dim=(1, 2))
    painted = np.asarray(image).copy()
    painted[y0:y1, x0:x1] = np.round((fill.numpy() * 0.5 + 0.5) * 255).astype(np.uint8)
    expected = to_tensor([Image.fromarray(painted)], cfg)[0]
    changed = (batch[8] - batch[0]).abs().amax(dim=0) > 1e-3
    differs = (expected - batch[0]).abs().amax(dim=0) > 0.05
    # The same input pixels change, up to a pixel of resampling at the window's edge.
    near = torch.from_numpy(cv2.dilate(changed.numpy().astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool))
    assert differs.sum() > 20 and (differs & ~near).sum() == 0
    # Away from that edge (two input pixels of bilinear resampling), the copy is the painted image.
    outside = cv2.dilate((~changed).numpy().astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    inside = changed & ~torch.from_numpy(outside)
    assert inside.sum() > 20
    assert torch.allclose(batch[8][:, inside], expected[:, inside], atol=0.05)


def test_the_window_follows_the_xray_framing() -> None:
    scan = generate_shipment(seed=3, index=5, size=192, scenario="concealment").xray
    cfg = PreprocessConfig(image_size=96, xray_framing="contents", **MEAN_STD)
    rgb = np.asarray(scan)
    box = np.array([[50.0, 70.0, 120.0, 110.0]])
    drawn = footprints(box, input_map(scan, cfg), cfg.image_size)[0]
    mask = np.zeros(rgb.shape[:2], np.float32)
    mask[70:110, 50:120] = 1
    matrix = framing_matrix(rgb)
    assert matrix is not None  # a parcel with goods in it is framed
    framed = cv2.warpAffine(mask, matrix, (192, 192), flags=cv2.INTER_LINEAR, borderValue=0)
    expected = cv2.resize(framed, (96, 96), interpolation=cv2.INTER_AREA)
    assert drawn.sum() == pytest.approx(expected.sum(), rel=0.03)
    assert np.abs(drawn - expected).max() < 0.5
