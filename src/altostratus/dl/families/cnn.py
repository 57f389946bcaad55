"""A convolutional network trained from scratch: a small ResNet, AdamW with a one-cycle learning rate.

On 4,000 MNIST digits and two CPU cores (widths 16, 32, 64), AdamW under OneCycleLR at 0.01 reached 98.5% on
the 1,000 test digits in 10 epochs (11 s) and 97.2% in 6; SGD with Nesterov momentum under the same schedule
(0.1 or 0.2) reached 97.2% in 10 and 96.4% in 6. The images are streamed batch by batch from the ImageData
every epoch, never held whole; the per-channel normalisation is measured on the first few thousand of them.
Mixed precision is the training loop's: float16 with a gradient scaler on CUDA, bfloat16 on a CPU with native
bfloat16, float32 elsewhere; prediction is always float32.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from numpy.typing import NDArray

from altostratus.dl.classifier import EpochProgress
from altostratus.dl.families.deep import DeepClassifier, pixel_batches, validation_accuracy
from altostratus.dl.families.pixels import PixelClassifier, channel_statistics
from altostratus.dl.families.resnet import ResNet
from altostratus.dl.families.training_loop import Loop, Training, one_cycle, run
from altostratus.dl.images import ImageData

STATISTICS_IMAGES = 4096  # enough for a mean and deviation per channel to three digits


class ConvNet(DeepClassifier):
    """A small ResNet (a stage per width, halving the resolution after the first) for small images.

    `augment` moves each training image by up to a tenth of its side and, for colour images only, mirrors
    half of them (a mirrored digit is another glyph). `patience` stops after that many epochs without a better
    validation accuracy and keeps the best epoch's weights. The default widths are for photos; digits need
    no more than (16, 32, 64), which fits MNIST as accurately in a quarter of the time.
    """

    family = "cnn"

    def __init__(
        self,
        *,
        widths: Sequence[int] = (32, 64, 128),
        blocks_per_stage: int = 1,
        epochs: int = 10,
        batch_size: int = 128,
        learning_rate: float = 0.01,
        weight_decay: float = 0.01,
        augment: bool = True,
        patience: int | None = None,
        seed: int = 0,
        device: str = "auto",
        mixed_precision: bool = True,
        threads: int | None = None,
    ) -> None:
        self.widths = widths
        self.blocks_per_stage = blocks_per_stage
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.augment = augment
        self.patience = patience
        self.seed = seed
        self.device = device
        self.mixed_precision = mixed_precision
        self.threads = threads

    def _check_params(self) -> None:
        super()._check_params()
        widths = list(self.widths) if isinstance(self.widths, Sequence) else []
        if not widths or not all(isinstance(width, int) and width >= 1 for width in widths):
            raise ValueError(f"widths={self.widths!r}; expected a non-empty sequence of positive integers")
        if not isinstance(self.blocks_per_stage, int) or self.blocks_per_stage < 1:
            raise ValueError(f"blocks_per_stage={self.blocks_per_stage!r}; expected a positive integer")

    def _network(self, channels: int, classes: int, mean: list[float], scale: list[float]) -> PixelClassifier:
        widths, blocks = list(self.widths), self.blocks_per_stage
        network = ResNet(channels=channels, classes=classes, widths=widths, blocks_per_stage=blocks)
        return PixelClassifier(network, mean=mean, scale=scale)

    def _train(
        self, data: ImageData, validation: ImageData | None, loop: Loop
    ) -> tuple[PixelClassifier, list[EpochProgress]]:
        torch.manual_seed(self.seed)
        mean, scale = channel_statistics(self._sample(data))
        network = self._network(self.shape_[2], len(self.classes_), mean, scale).to(loop.device)
        optimizer = torch.optim.AdamW(network.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        scheduler = one_cycle(optimizer, [self.learning_rate], self.epochs, math.ceil(len(data) / self.batch_size))

        def batches(seed: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
            return pixel_batches(data, self.batch_size, seed, loop.device, augment=self.augment)

        check = validation_accuracy(network, validation, self.batch_size, self.classes_)
        record = run(loop, Training(network, network.logits, optimizer, scheduler, batches, check))
        return network.eval(), record.history

    def _sample(self, data: ImageData) -> NDArray[np.uint8]:
        """The first few thousand images of the seeded shuffle, for the normalisation."""
        sample: list[NDArray[np.uint8]] = []
        for pixels, _ in data.batches(self.batch_size, shuffle=True, seed=self.seed):
            sample.append(pixels)
            if sum(map(len, sample)) >= STATISTICS_IMAGES:
                break
        return np.concatenate(sample)
