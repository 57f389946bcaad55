"""Bots (Lex V2) benchmark: the NLU on the Snips 2017 benchmark beside the published engines and a TF-IDF
baseline, its build time, and RecognizeText's turn latency through boto3.

- Quality: train on `train_<Intent>.json` (300 queries an intent), test on `validate_<Intent>.json` (100 an
  intent), and again on 70 queries an intent drawn at random (the benchmark's small setting; the published
  figures are means over their runs at 70). Intent accuracy; slot precision, recall and F1 per intent (a slot
  counts when its name and words match exactly, without case or outer punctuation), beside each engine's
  published means at 70 in `published_metrics/`. The baseline: TF-IDF word 1-2 grams and logistic regression
  (scikit-learn), intents only, on the same queries.
- Build: seconds to train the NLU on the 2,100 queries (the bot's build job does the same work).
- Latency: the BookTrip sample on a live `alto serve`, a turn a call through boto3's `lexv2-runtime`
  (RecognizeText), p50 and p99 over `--turns` turns of whole conversations.

    python benchmarks/bots.py [--turns N] [--json OUT] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.live_server import ALTO, live_server

from altostratus.bots.interpretations import Moment
from altostratus.bots.nlu.understanding import NluTrainer
from benchmarks import snips
from benchmarks.predict import machine

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "bots" / "booktrip.yaml"
CONVERSATION = (
    "I want to book a hotel",
    "Seattle",
    "next friday",
    "three",
    "king",
    "yes",
    "I need a rental car",
    "the 20th",
    "35",
    "economy",
    "yes",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--turns", type=int, default=220)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (args.data / snips.FOLDER).exists():
        raise SystemExit(f"the Snips benchmark is not in {args.data / snips.FOLDER}")
    figures: dict[str, Any] = {"machine": machine(), "date": dt.date.today().isoformat()}
    test = snips.queries(args.data, "validate")
    for setting, per_intent in (("full", None), ("70", 70)):
        train = snips.queries(args.data, "train", per_intent=per_intent)
        figures[setting] = quality(args.data, train, test)
        figures[setting]["baseline_accuracy"] = baseline(train, test)
    figures["published_70"] = {
        engine: {intent: snips.published(args.data, intent, engine) for intent in snips.intents(args.data)}
        for engine in snips.ENGINES
    }
    figures["latency"] = latency(args.turns)
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


def quality(root: Path, train: Sequence[snips.Query], test: Sequence[snips.Query]) -> dict[str, Any]:
    """Our NLU trained on `train`: build seconds, intent accuracy, slot figures overall and per intent."""
    locale = snips.locale(train)
    started = time.perf_counter()
    nlu = NluTrainer().train(locale)
    build = time.perf_counter() - started
    moment = Moment(dt.datetime(2017, 6, 1, 12, 0))
    scores = snips.Scores()
    confidences, right = [], []
    started = time.perf_counter()
    for query in test:
        top = nlu.interpret(query.text, moment=moment)[0]
        scores.add(query, top.intent, [(name, value.original) for name, value in top.slots.items()])
        confidences.append(top.confidence)
        right.append(top.intent == query.intent)
    per_query = (time.perf_counter() - started) / len(test)
    return {
        "train_queries": len(train),
        "utterances": sum(len(intent.utterances) for intent in locale.intents),
        "build_s": round(build, 1),
        "interpret_ms": round(per_query * 1000, 2),
        "accuracy": round(scores.accuracy, 4),
        "slots": scores.slot_figures(),
        "per_intent": {intent: scores.slot_figures(intent) for intent in snips.intents(root)},
        **calibration(confidences, right, locale.confidence_threshold),
    }


def calibration(confidences: Sequence[float], right: Sequence[bool], threshold: float) -> dict[str, float]:
    """Expected calibration error of the top confidence (10 bins), and the share of test queries (all in scope)
    that the threshold would send to the fallback intent."""
    error = 0.0
    for low in (i / 10 for i in range(10)):
        chosen = [(c, r) for c, r in zip(confidences, right, strict=True) if low < c <= low + 0.1]
        if chosen:
            mean_confidence = sum(c for c, _ in chosen) / len(chosen)
            accuracy = sum(r for _, r in chosen) / len(chosen)
            error += len(chosen) / len(confidences) * abs(mean_confidence - accuracy)
    below = sum(c < threshold for c in confidences) / len(confidences)
    return {"ece": round(error, 4), "below_threshold": round(below, 4)}


def baseline(train: Sequence[snips.Query], test: Sequence[snips.Query]) -> float:
    """Intent accuracy of TF-IDF (words, 1-2 grams) and logistic regression on the same queries."""
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    model = LogisticRegression(C=10.0, max_iter=2000)
    model.fit(vectorizer.fit_transform([q.text for q in train]), [q.intent for q in train])
    predicted = model.predict(vectorizer.transform([q.text for q in test]))
    return round(sum(p == q.intent for p, q in zip(predicted, test, strict=True)) / len(test), 4)


def latency(turns: int) -> dict[str, Any]:
    """RecognizeText through boto3 on a live server: p50/p99 milliseconds a turn of BookTrip conversations."""
    with tempfile.TemporaryDirectory() as folder, live_server(Path(folder) / "data") as server:
        done = subprocess.run(
            [ALTO, "bots", "import", str(EXAMPLE), "--wait", "--data-dir", str(server.data_dir)],
            capture_output=True,
            text=True,
            check=True,
        )
        bot_id = done.stdout.split("bot id ")[1].split()[0]
        lex = server.client("lexv2-runtime")
        times, conversation = [], 0
        while len(times) < turns:
            conversation += 1
            for text in CONVERSATION:
                started = time.perf_counter()
                lex.recognize_text(
                    botId=bot_id, botAliasId="TSTALIASID", localeId="en_US", sessionId=f"c{conversation}", text=text
                )
                times.append((time.perf_counter() - started) * 1000)
        warm = times[len(CONVERSATION) :]  # the first conversation loads the model
        ordered = sorted(warm)
        return {
            "turns": len(warm),
            "p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
            "first_turn_ms": round(times[0], 1),
        }


def report(figures: dict[str, Any]) -> None:
    print(f"Machine: {figures['machine']}; load {figures['load_average']}")
    for setting in ("full", "70"):
        found = figures[setting]
        print(
            f"\n{setting} ({found['train_queries']} training queries): build {found['build_s']} s, "
            f"intent accuracy {found['accuracy']:.4f} (TF-IDF + LR baseline {found['baseline_accuracy']:.4f}), "
            f"slots P {found['slots']['precision']:.3f} R {found['slots']['recall']:.3f} "
            f"F1 {found['slots']['f1']:.3f}, interpret {found['interpret_ms']} ms, ECE {found['ece']:.3f}, "
            f"{found['below_threshold']:.1%} below the fallback threshold"
        )
        header = f"  {'intent':22} {'ours F1':>8} " + " ".join(f"{e + ' F1':>10}" for e in snips.ENGINES)
        print(header)
        for intent, ours in found["per_intent"].items():
            engines = [figures["published_70"][e].get(intent) for e in snips.ENGINES]
            shown = " ".join(f"{_f1(e):>10}" for e in engines)
            print(f"  {intent:22} {ours['f1']:>8.3f} {shown}")
    lat = figures["latency"]
    print(f"\nRecognizeText: p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms over {lat['turns']} warm turns")


def _f1(found: dict[str, float] | None) -> str:
    if found is None or found["f1"] != found["f1"]:  # missing, or NaN in the published file
        return "-"
    return f"{found['f1']:.3f}"


if __name__ == "__main__":
    main()
