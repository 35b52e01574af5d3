"""A small spatial-temporal graph convolutional network (ST-GCN) over the SMPL-X tree.

Input (N, 6, F, V): 6D joint rotations, F frames, V joints (see :mod:`.inputs`).
Each block is a graph convolution over the joints with the three-subset spatial partition
of :mod:`.graph` (a 1x1 convolution per subset, mixed by the normalised adjacency times a
learned edge-importance mask), then a temporal convolution along frames, batch norm,
ReLU and a residual connection. Global average pooling over frames and joints, a
``feature_dim`` layer (the *features* used by FID / diversity / multimodality: the
penultimate activations) and a linear classifier over glosses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..errors import SignAvatarError
from .graph import joint_indices, spatial_partition


@dataclass
class STGCNConfig:
    num_classes: int  # glosses the recognizer tells apart
    joint_set: str = "signing"  # 'signing' (45 joints) or 'all' (55)
    frames: int = 32  # every clip is resampled to this many frames
    channels: tuple[int, ...] = (32, 64, 96)  # output channels of each ST-GCN block
    strides: tuple[int, ...] = (2, 2, 1)  # temporal stride of each block
    temporal_kernel: int = 5  # frames seen by each temporal convolution (odd)
    feature_dim: int = 64  # size of the penultimate layer = the evaluation features
    dropout: float = 0.25  # before the classifier

    def __post_init__(self):
        self.channels = tuple(int(c) for c in self.channels)
        self.strides = tuple(int(s) for s in self.strides)
        problems = []
        if self.num_classes < 2:
            problems.append(f"num_classes must be >= 2, got {self.num_classes}")
        if len(self.channels) != len(self.strides) or not self.channels:
            problems.append(f"channels {self.channels} and strides {self.strides} must be non-empty and equal length")
        if self.temporal_kernel < 1 or self.temporal_kernel % 2 == 0:
            problems.append(f"temporal_kernel must be odd and >= 1, got {self.temporal_kernel}")
        if self.frames < 4:
            problems.append(f"frames must be >= 4, got {self.frames}")
        if problems:
            raise SignAvatarError("invalid STGCN config: " + "; ".join(problems))
        joint_indices(self.joint_set)  # validates the name

    def to_dict(self) -> dict:
        return asdict(self)


class GraphConv(nn.Module):
    """y[:, :, :, i] = sum_k W_k sum_j (A_k * M_k)[i, j] x[:, :, :, j] (+ bias).

    The joints are gathered first and the channels mixed after, which is the same sum as
    ST-GCN's "mix, then gather" but cheaper when a block widens the channels.
    """

    def __init__(self, c_in: int, c_out: int, adjacency: torch.Tensor):
        super().__init__()
        self.k = adjacency.shape[0]
        self.register_buffer("adjacency", adjacency, persistent=False)  # rebuilt from the config
        self.importance = nn.Parameter(torch.ones_like(adjacency))
        self.conv = nn.Conv2d(c_in * self.k, c_out, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        a = (self.adjacency * self.importance).reshape(self.k * v, v)  # rows: (subset, joint)
        gathered = torch.matmul(x, a.t())  # (n, c, t, k * v)
        gathered = gathered.view(n, c, t, self.k, v).permute(0, 3, 1, 2, 4).reshape(n, self.k * c, t, v)
        return self.conv(gathered)


class STGCNBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, adjacency: torch.Tensor, stride: int, kernel: int):
        super().__init__()
        self.gcn = GraphConv(c_in, c_out, adjacency)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, (kernel, 1), (stride, 1), ((kernel - 1) // 2, 0)),
            nn.BatchNorm2d(c_out),
        )
        if c_in == c_out and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(nn.Conv2d(c_in, c_out, 1, (stride, 1)), nn.BatchNorm2d(c_out))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.tcn(self.gcn(x)) + self.residual(x))


class STGCN(nn.Module):
    def __init__(self, config: STGCNConfig):
        super().__init__()
        self.config = config
        adjacency = torch.from_numpy(spatial_partition(config.joint_set))
        v = adjacency.shape[-1]
        self.num_joints = v
        self.input_norm = nn.BatchNorm1d(6 * v)  # per joint and channel, over batch and frames
        blocks = []
        c_in = 6
        for c_out, stride in zip(config.channels, config.strides):
            blocks.append(STGCNBlock(c_in, c_out, adjacency, stride, config.temporal_kernel))
            c_in = c_out
        self.blocks = nn.ModuleList(blocks)
        self.feature = nn.Sequential(nn.Linear(c_in, config.feature_dim), nn.ReLU(inplace=True))
        self.classifier = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(config.feature_dim, config.num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 6, F, V) -> (N, feature_dim) penultimate activations."""
        n, c, t, v = x.shape
        if c != 6 or v != self.num_joints:
            raise SignAvatarError(f"recognizer expects (N, 6, F, {self.num_joints}) input, got {tuple(x.shape)}")
        x = self.input_norm(x.permute(0, 3, 1, 2).reshape(n, v * c, t))
        x = x.view(n, v, c, t).permute(0, 2, 3, 1)
        for block in self.blocks:
            x = block(x)
        return self.feature(x.mean(dim=(2, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 6, F, V) -> (N, num_classes) logits."""
        return self.classifier(self.features(x))
