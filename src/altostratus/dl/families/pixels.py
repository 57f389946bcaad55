"""From pixels to a network's input and from its logits to probabilities: one module for training and export.

Training, prediction and the ONNX graph all go through `PixelClassifier.prepare`, so the normalisation (and the
resize of the transfer family) is written once and an exported model sees exactly what the trained one saw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.nn import functional


class PixelClassifier(nn.Module):
    """N x H x W x C float32 pixels (0-255) to N x K softmax probabilities, around a network of logits."""

    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(
        self,
        network: nn.Module,
        *,
        mean: Sequence[float],
        scale: Sequence[float],
        channels: int | None = None,
        size: int | None = None,
    ) -> None:
        super().__init__()
        # channels-last convolutions trained the ResNet a quarter faster on the CPU; torch's stubs lack the keyword
        self.network = network.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32).reshape(1, -1, 1, 1))
        self.channels = channels
        self.size = size

    def prepare(self, pixels: torch.Tensor) -> torch.Tensor:
        """The network's input: N x C x H x W, repeated to `channels`, resized to `size`, normalised."""
        x = pixels.permute(0, 3, 1, 2).float()
        if self.channels is not None and x.shape[1] != self.channels:
            # grey digits into a colour backbone: the same grey in every channel
            x = x.repeat(1, self.channels, 1, 1)
        if self.size is not None:
            # bilinear without antialias: the exporter has no antialiased resize
            x = functional.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        x = (x - self.mean) / self.scale
        return x.contiguous(memory_format=torch.channels_last)

    def logits(self, pixels: torch.Tensor) -> torch.Tensor:
        """N x K logits of N x H x W x C pixels."""
        return self.network(self.prepare(pixels))  # type: ignore[no-any-return]

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """N x K probabilities of N x H x W x C pixels."""
        return torch.softmax(self.logits(pixels), dim=1)


def channel_statistics(pixels: NDArray[np.uint8]) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of N x H x W x C pixels (the deviation at least 1)."""
    values = pixels.reshape(-1, pixels.shape[-1]).astype(np.float64)
    return values.mean(axis=0).tolist(), np.maximum(values.std(axis=0), 1.0).tolist()


def shifted(pixels: torch.Tensor, shift: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """N x H x W x C pixels each moved by up to `shift` pixels (zeros enter), mirrored at random when `flip`."""
    count, height, width = pixels.shape[:3]
    padded = functional.pad(pixels, (0, 0, shift, shift, shift, shift))
    offsets = torch.randint(0, 2 * shift + 1, (2, count, 1), generator=generator).to(pixels.device)
    rows = (offsets[0] + torch.arange(height, device=pixels.device))[:, :, None]
    columns = (offsets[1] + torch.arange(width, device=pixels.device))[:, None, :]
    batch = torch.arange(count, device=pixels.device)[:, None, None]
    moved = padded[batch, rows, columns]
    if not flip:
        return moved
    mirrored = (torch.rand(count, generator=generator) < 0.5).to(pixels.device)
    return torch.where(mirrored[:, None, None, None], moved.flip(2), moved)
