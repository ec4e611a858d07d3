"""A projection head that keeps where things are on the goods, and the poses a photo is matched in.

What tells one phone of a category from the next is where its metal marks sit on the body
(`models.generator.objects.marks`). Average pooling keeps which marks there are but not where; this
head keeps a coarse grid of cell features (`grid` x `grid`, each cell reduced to `cell_dim`
channels) and projects the grid as a whole, so layout reaches the embedding.

A layout is only comparable in one orientation. Both towers see their goods framed long axis
upright (`models.encoders.framing`, `models.encoders.photo_align`), which leaves the ends (a parcel packed either
way round), the sides (a scanner that shows the belt mirrored) and, for compact goods, a quarter
turn undecided. So the photo is embedded in each of the eight poses of the square (`D4`: four
quarter turns, each also mirrored), taken on the cell grid, and a photo matches an x-ray as well
as its best pose does. The x-ray keeps one embedding: the gallery, the findings head and stored
scans are unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.layers import Mlp
from torch import nn

POSE_SETS = {"none": 1, "d4": 8}


def dihedral(cells: torch.Tensor, count: int) -> torch.Tensor:
    """(b, c, g, g) -> (b, count, c, g, g): the identity first, then quarter turns, then mirrored."""
    poses: list[torch.Tensor] = []
    for mirrored in (cells, cells.flip(-1)):
        poses.extend(torch.rot90(mirrored, k, dims=(-2, -1)) for k in range(4))
    return torch.stack(poses[:count], dim=1)


class LayoutHead(nn.Module):
    """Feature map (b, in_chs, h, w) -> embedding (b, embed_dim), or (b, poses, embed_dim).

    The MLP sees the map's average (what there is, the same in every pose) beside the cell grid
    (where it is). The grid alone learnt more slowly than average pooling at half scale
    (validation recall@1 0.108 against 0.162 after 3 epochs, `docs/evaluation/layout-head/`):
    with `global_average` the head starts from what average pooling already learns.
    """

    def __init__(
        self, in_chs: int, embed_dim: int, *, grid: int = 3, cell_dim: int = 128, global_average: bool = True
    ) -> None:
        super().__init__()
        self.grid = grid
        self.global_average = global_average
        self.reduce = nn.Conv2d(in_chs, cell_dim, kernel_size=1)
        self.mlp = Mlp(cell_dim * grid * grid + (in_chs if global_average else 0), 2 * embed_dim, embed_dim)

    def cells(self, fmap: torch.Tensor) -> torch.Tensor:
        # Adaptive pooling of a 5 x 5 map to 3 x 3 uses windows of 2, 3, 2: symmetric, so a pose of
        # the grid is the same pose of the map.
        return self.reduce(F.adaptive_avg_pool2d(fmap, self.grid))

    def forward(self, fmap: torch.Tensor, poses: int = 1) -> torch.Tensor:
        cells = self.cells(fmap)
        grid = cells.flatten(1) if poses == 1 else dihedral(cells, poses).flatten(2)  # (b, g) or (b, poses, g)
        if not self.global_average:
            return self.mlp(grid)
        average = fmap.mean(dim=(-2, -1))
        if poses > 1:
            average = average[:, None].expand(-1, poses, -1)
        return self.mlp(torch.cat([average, grid], dim=-1))


def best_pose_similarity(photo_poses: torch.Tensor, xray: torch.Tensor) -> torch.Tensor:
    """(p, k, d) photo poses and (n, d) x-rays -> (p, n): cosine of each photo's best pose."""
    return torch.einsum("pkd,nd->pkn", photo_poses, xray).amax(dim=1)
