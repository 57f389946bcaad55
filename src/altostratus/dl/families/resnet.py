"""A small ResNet for small images: a 3 x 3 stem, stages of residual blocks, global pooling, a linear layer.

The first stage keeps the resolution, every later one halves it and widens to the next of `widths`, as in
He et al.'s CIFAR ResNets; 28 x 28 digits and 32 x 32 photos keep 7 x 7 or 8 x 8 after three stages.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional


class ResidualBlock(nn.Module):
    """Two 3 x 3 convolutions with batch norm, added to the input (projected when the shape changes)."""

    def __init__(self, inputs: int, outputs: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.norm1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(outputs)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output, the same batch at the block's width and stride."""
        residual = self.norm2(self.conv2(functional.relu(self.norm1(self.conv1(x)))))
        return functional.relu(residual + self.shortcut(x))


class ResNet(nn.Module):
    """Logits of normalised N x C x H x W images."""

    def __init__(self, *, channels: int, classes: int, widths: Sequence[int], blocks_per_stage: int) -> None:
        super().__init__()
        stem = [nn.Conv2d(channels, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU()]
        stages: list[nn.Module] = []
        previous = widths[0]
        for stage, width in enumerate(widths):
            for block in range(blocks_per_stage):
                stride = 2 if stage > 0 and block == 0 else 1
                stages.append(ResidualBlock(previous, width, stride))
                previous = width
        self.features = nn.Sequential(*stem, *stages, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(previous, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N x classes logits."""
        return self.classifier(self.features(x))  # type: ignore[no-any-return]
