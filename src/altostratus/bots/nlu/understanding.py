"""The NLU a build trains for one bot locale: intents ranked, each with the slot values its tagger finds.

`NluTrainer` is the engine the builds call; `Understanding` is what it trains, stored as one numpy archive
(arrays and CRFsuite models as bytes, never a pickle, so that loading a stored model cannot run code).
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Sequence

import numpy as np

from altostratus.bots.definitions import Intent, LocaleDefinition
from altostratus.bots.interpretations import Interpretation, Moment, SlotValue
from altostratus.bots.nlu.embeddings import SentenceEncoder
from altostratus.bots.nlu.expansion import expand, gazetteer_values
from altostratus.bots.nlu.intents import IntentClassifier
from altostratus.bots.nlu.slot_tagger import Gazetteer, SlotTagger
from altostratus.bots.slot_values import find_in, resolve

FORMAT = "altostratus-nlu-1"
# The slot tagger trains on every fill; the intent classifier on the first two fills of each utterance.
CLASSIFIER_FILLS = 2


@functools.cache
def shared_encoder() -> SentenceEncoder:
    """One sentence encoder for the process: every bot's NLU shares its weights (90 MB)."""
    return SentenceEncoder()


class Understanding:
    """A trained NLU for one locale (bots/interpretations.UnderstandsUtterances)."""

    def __init__(self, locale: LocaleDefinition, classifier: IntentClassifier, taggers: dict[str, SlotTagger]) -> None:
        self._locale = locale
        self._classifier = classifier
        self._taggers = taggers

    def interpret(
        self, text: str, *, moment: Moment, active_contexts: Sequence[str] = (), limit: int = 5
    ) -> list[Interpretation]:
        """The `limit` best intents with their slots; intents whose input contexts are not active are left out."""
        active = set(active_contexts)
        found = []
        for name, confidence in self._classifier.rank(text):
            intent = self._locale.intent(name)
            if intent is None or not set(intent.input_contexts) <= active:
                continue
            found.append(Interpretation(name, confidence, self._slots(intent, text, moment)))
            if len(found) == limit:
                break
        return found

    def fill_slot(self, intent: str, slot: str, text: str, *, moment: Moment) -> SlotValue | None:
        """`text` read as the answer to a prompt for `slot`: the whole answer, a tagged span, then any part."""
        defined = self._locale.intent(intent)
        wanted = None if defined is None else defined.slot(slot)
        if defined is None or wanted is None:
            return None
        custom = self._locale.slot_type(wanted.slot_type)
        whole = resolve(wanted.slot_type, text, moment=moment, custom=custom)
        if whole is not None and (custom is None or whole.resolved != (whole.original,) or not custom.values):
            return whole
        tagged = self._slots(defined, text, moment).get(slot)
        return tagged or find_in(wanted.slot_type, text, moment=moment, custom=custom) or whole

    def to_bytes(self) -> bytes:
        """The trained model as a numpy archive."""
        arrays = {f"intents.{key}": value for key, value in self._classifier.arrays().items()}
        for name, tagger in self._taggers.items():
            arrays[f"slots.{name}"] = np.frombuffer(tagger.model, dtype=np.uint8)
        arrays["format"] = np.array(FORMAT)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    def _slots(self, intent: Intent, text: str, moment: Moment) -> dict[str, SlotValue]:
        tagger = self._taggers.get(intent.name)
        if tagger is None:
            return {}
        values: dict[str, SlotValue] = {}
        for name, words in tagger.spans(text):
            slot = intent.slot(name)
            if slot is None or name in values:
                continue
            value = resolve(slot.slot_type, words, moment=moment, custom=self._locale.slot_type(slot.slot_type))
            if value is not None:
                values[name] = value
        return values


class NluTrainer:
    """Trains and loads `Understanding`s (bots/builds.TrainsNlu)."""

    def __init__(self, encoder: SentenceEncoder | None = None) -> None:
        self._encoder = encoder

    @property
    def encoder(self) -> SentenceEncoder:
        return self._encoder or shared_encoder()

    def train(self, locale: LocaleDefinition) -> Understanding:
        """Fit the intent classifier and one slot tagger per intent with slots."""
        gazetteer = Gazetteer(gazetteer_values(locale))
        texts: list[str] = []
        labels: list[str] = []
        taggers = {}
        for intent in locale.intents:
            if intent.is_fallback and not intent.utterances:
                continue
            filled = [example.text for example in expand(intent, locale, slot_answers=False, fills=CLASSIFIER_FILLS)]
            texts += filled
            labels += [intent.name] * len(filled)
            if intent.slots:
                taggers[intent.name] = SlotTagger.train(expand(intent, locale), gazetteer)
        if not texts:
            raise ValueError("the locale has no sample utterances to train on")
        return Understanding(locale, IntentClassifier.train(texts, labels, self.encoder), taggers)

    def load(self, data: bytes, locale: LocaleDefinition) -> Understanding:
        """The model `to_bytes` wrote, for the same locale definition."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise ValueError(f"not an NLU model: {error}") from None
        if "format" not in arrays or str(arrays["format"]) != FORMAT:
            raise ValueError(f"not an NLU model of format {FORMAT}")
        intents = {key.removeprefix("intents."): value for key, value in arrays.items() if key.startswith("intents.")}
        gazetteer = Gazetteer(gazetteer_values(locale))
        taggers = {
            key.removeprefix("slots."): SlotTagger(value.tobytes(), gazetteer)
            for key, value in arrays.items()
            if key.startswith("slots.")
        }
        return Understanding(locale, IntentClassifier.from_arrays(intents, self.encoder), taggers)
