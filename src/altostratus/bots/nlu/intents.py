"""Intent classification: sentence embeddings and word and character n-grams into one logistic regression.

The embeddings carry meaning across paraphrases ("I need a room" ~ "book me a hotel"); the n-grams carry the
words a bot's users say that a general-purpose model weighs lightly (names of products, misspellings). Each
part alone was weaker on the Snips benchmark (benchmarks/bots.py). What a bot was not trained on is told by how
far an utterance is from every training utterance: its confidence shrinks toward 0 with that distance, so that
the fallback intent answers below the locale's threshold.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import ThreadpoolController

from altostratus.bots.nlu.embeddings import SentenceEncoder

Floats = npt.NDArray[np.float32]
# The embedding's weight beside the n-grams (each block is L2-normalised): chosen by 5-fold cross-validation on
# Snips' training queries (0.5-1: 99.1%; 2: 98.9%; n-grams alone 98.7%; the embedding alone 97.5%).
EMBEDDING_WEIGHT = 1.0
# Cosine similarity to the nearest training utterance below which an utterance is out of scope, and above which
# it is fully in scope; confidence shrinks linearly between the two. all-MiniLM-L6-v2 puts paraphrases at
# 0.6-0.9 and unrelated sentences at 0.0-0.3. Measured on Snips at 70 queries an intent: 5% of its test queries
# are nearer than 0.41 to no training query; (0.30, 0.55) sent 7.3% of them below a 0.4 threshold, these 2.0%,
# while BookTrip's nonsense tests stay at 0.07-0.20.
OUT_OF_SCOPE, IN_SCOPE = 0.25, 0.45


@dataclasses.dataclass
class IntentClassifier:
    """A trained classifier: `rank` gives every intent with a confidence, best first."""

    classes: list[str]
    words: TfidfVectorizer
    chars: TfidfVectorizer
    coef: Floats
    intercept: Floats
    examples: Floats  # the training utterances' embeddings, for the distance to the nearest
    encoder: SentenceEncoder

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str], encoder: SentenceEncoder) -> IntentClassifier:
        """Fit on utterances and their intents (one intent alone is allowed: its confidence is then scope)."""
        words, chars = _vectorizers()
        embedded = encoder.encode(texts)
        features = _features(words.fit_transform(texts), chars.fit_transform(texts), embedded)
        classes = sorted(set(labels))
        if len(classes) == 1:
            coef: Floats = np.zeros((1, features.shape[1]), np.float32)
            intercept: Floats = np.zeros(1, np.float32)
        else:
            model = LogisticRegression(C=20.0, max_iter=3000).fit(features, labels)
            classes = [str(c) for c in model.classes_]
            coef, intercept = model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
            if len(classes) == 2:  # scikit-learn keeps one row for two classes
                coef = (np.vstack([-coef, coef]) / 2).astype(np.float32)
                intercept = (np.concatenate([-intercept, intercept]) / 2).astype(np.float32)
        return cls(classes, words, chars, coef, intercept, embedded.astype(np.float16).astype(np.float32), encoder)

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Every intent and its confidence (0-1; all of them shrink when `text` is out of scope), best first."""
        embedded = self.encoder.encode([text])
        # One utterance's products are small: OpenBLAS's second thread, left spinning after them, took the core
        # the encoder's next call needed (a turn took 36 ms instead of 11).
        with _blas().limit(limits=1, user_api="blas"):
            features = _features(self.words.transform([text]), self.chars.transform([text]), embedded)
            scores = np.asarray(features @ self.coef.T).ravel() + self.intercept
            scores = np.exp(scores - scores.max())
            probabilities = scores / scores.sum()
            nearest = float(np.max(self.examples @ embedded[0])) if len(self.examples) else 0.0
        scope = float(np.clip((nearest - OUT_OF_SCOPE) / (IN_SCOPE - OUT_OF_SCOPE), 0.0, 1.0))
        ranked = sorted(zip(self.classes, probabilities * scope, strict=True), key=lambda pair: -pair[1])
        return [(name, round(float(p), 4)) for name, p in ranked]

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The trained state as plain arrays (stored with numpy's format, no pickle)."""
        return {
            "classes": np.array(self.classes),
            "coef": self.coef,
            "intercept": self.intercept,
            "examples": self.examples.astype(np.float16),
            "word_terms": _terms(self.words),
            "word_idf": self.words.idf_.astype(np.float32),
            "char_terms": _terms(self.chars),
            "char_idf": self.chars.idf_.astype(np.float32),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, npt.NDArray[np.generic]], encoder: SentenceEncoder) -> IntentClassifier:
        """The classifier `arrays` keeps."""
        words, chars = _vectorizers()
        for vectorizer, prefix in ((words, "word"), (chars, "char")):
            vectorizer.vocabulary_ = {str(term): i for i, term in enumerate(arrays[f"{prefix}_terms"])}
            vectorizer.idf_ = np.asarray(arrays[f"{prefix}_idf"], np.float64)
        return cls(
            [str(c) for c in arrays["classes"]],
            words,
            chars,
            np.asarray(arrays["coef"], np.float32),
            np.asarray(arrays["intercept"], np.float32),
            np.asarray(arrays["examples"], np.float32),
            encoder,
        )


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def _vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    return words, chars


def _features(words: sp.spmatrix, chars: sp.spmatrix, embedded: Floats) -> sp.csr_matrix:
    return sp.hstack([words, chars, sp.csr_matrix(embedded * EMBEDDING_WEIGHT)], format="csr")


def _terms(vectorizer: TfidfVectorizer) -> npt.NDArray[np.str_]:
    return np.array(sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__), dtype=str)
