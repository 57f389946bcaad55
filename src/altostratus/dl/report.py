"""The comparison report of an experiment: one self-contained HTML page comparing families on the same test images.

Sections, each with `id` for a link: `accuracy` (the families' accuracy and macro F1), `confusion` (a matrix per
family), `mistakes` (the images each family gets wrong, most confident first), `precision-recall` (per class, a
figure per family) and `tradeoff` (false positives against recall as a class's threshold moves, the operating
point marked). The plots are PNGs inlined as data: URIs, so the page travels as one file. The page holds no
clock reading: the same evaluations give the same bytes.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from altostratus.dl import report_plots
from altostratus.dl.evaluation import Evaluation, InvalidEvaluation, threshold_tradeoff
from altostratus.dl.images import Pixels, check_pixels

MISTAKES_SHOWN = 24
_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figcaption { font-size: 0.9em; color: #555; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
ol.mistakes { columns: 4; font-size: 0.8em; }
"""


def render_report(
    title: str,
    evaluations: Mapping[str, Evaluation],
    test_pixels: Pixels,
    *,
    operating_points: Mapping[str, Mapping[str, float]] | None = None,
    tradeoff_classes: Sequence[str] | None = None,
    notes: Sequence[str] = (),
    mistakes_shown: int = MISTAKES_SHOWN,
) -> str:
    """The report page for `evaluations` (family -> its evaluation on `test_pixels`) as HTML text.

    `operating_points` (family -> class -> threshold) are the thresholds marked on the trade-off plots; a
    family or class left out is marked at its evaluation's own threshold. `tradeoff_classes` picks the classes
    whose trade-off is drawn (all by default); `notes` are lines shown under the title.
    """
    pixels = check_pixels(test_pixels)
    classes = _common_classes(evaluations, len(pixels))
    points = _operating_points(evaluations, operating_points or {})
    chosen = list(classes if tradeoff_classes is None else tradeoff_classes)
    unknown = [name for name in chosen if name not in classes]
    if unknown:
        raise InvalidEvaluation(f"tradeoff_classes names unknown classes {unknown}; expected some of {list(classes)}")
    if isinstance(mistakes_shown, bool) or not isinstance(mistakes_shown, int) or mistakes_shown < 0:
        raise InvalidEvaluation(f"mistakes_shown={mistakes_shown!r}; expected a whole number from 0")
    body = [
        f"<h1>{_text(title)}</h1>",
        *(f'<p class="note">{_text(note)}</p>' for note in notes),
        _section("accuracy", "Accuracy per family", _accuracy(evaluations)),
        _section("confusion", "Confusion matrices", _confusions(evaluations)),
        _section("mistakes", "The images each family gets wrong", _mistakes(evaluations, pixels, mistakes_shown)),
        _section("precision-recall", "Precision-recall curves per class", _curves(evaluations)),
        _section("tradeoff", "The threshold trade-off", _tradeoffs(evaluations, chosen, points)),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_text(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _accuracy(evaluations: Mapping[str, Evaluation]) -> Iterator[str]:
    yield _figure(report_plots.accuracy_bars(evaluations), "accuracy and macro F1 of each family")
    yield "<table><tr><th>family</th><th>accuracy</th><th>macro F1</th><th>mistakes</th></tr>"
    for family, evaluation in evaluations.items():
        yield (
            f"<tr><td>{_text(family)}</td><td>{evaluation.accuracy:.2%}</td><td>{evaluation.macro_f1:.3f}</td>"
            f"<td>{len(evaluation.mistakes)}</td></tr>"
        )
    yield "</table>"


def _confusions(evaluations: Mapping[str, Evaluation]) -> Iterator[str]:
    for family, evaluation in evaluations.items():
        yield _figure(
            report_plots.confusion_matrix(family, evaluation), f"{family}: true classes down, predicted across"
        )


def _mistakes(evaluations: Mapping[str, Evaluation], pixels: Pixels, shown: int) -> Iterator[str]:
    """A grid of each family's most confident mistakes, and the same mistakes listed as text."""
    for family, evaluation in evaluations.items():
        indices = [int(index) for index in evaluation.mistakes[:shown]]
        yield f"<h3>{_text(family)}: {len(evaluation.mistakes)} of {len(evaluation.truth)} wrong</h3>"
        if not indices:
            continue
        caption = f"{family}: the {len(indices)} most confident mistakes"
        yield _figure(report_plots.mistakes_grid(evaluation, pixels, indices), caption)
        yield f'<ol class="mistakes" data-family="{_text(family)}">'
        for index in indices:
            truth = evaluation.classes[evaluation.truth[index]]
            predicted = evaluation.classes[evaluation.predicted[index]]
            confidence = evaluation.probabilities[index, evaluation.predicted[index]]
            yield (
                f'<li data-image="{index}">image {index}: true {_text(truth)}, '
                f"predicted {_text(predicted)} ({confidence:.0%})</li>"
            )
        yield "</ol>"


def _curves(evaluations: Mapping[str, Evaluation]) -> Iterator[str]:
    for family, evaluation in evaluations.items():
        image = report_plots.precision_recall(family, evaluation)
        yield _figure(image, f"{family}: each class against the rest, AP = average precision")


def _tradeoffs(
    evaluations: Mapping[str, Evaluation], chosen: Sequence[str], points: Mapping[str, Mapping[str, float]]
) -> Iterator[str]:
    """Per family, the plot of the chosen classes and a table of their operating points."""
    yield (
        "<p>Lowering a class's threshold detects more of its images (recall) and takes more images of other "
        "classes for it (false positives). The marked point is the threshold the family uses.</p>"
    )
    if not chosen:
        return
    for family, evaluation in evaluations.items():
        thresholds = {name: points[family][name] for name in chosen}
        caption = f"{family}: false positives against recall for each class"
        yield _figure(report_plots.tradeoff(family, evaluation, thresholds), caption)
        yield "<table><tr><th>class</th><th>threshold</th><th>recall</th><th>false positives</th></tr>"
        for name, threshold in thresholds.items():
            index = evaluation.class_index(name)
            point = threshold_tradeoff(evaluation.truth, evaluation.probabilities, index, [threshold])
            yield (
                f"<tr><td>{_text(name)}</td><td>{threshold:.3f}</td><td>{point.recall[0]:.2%}</td>"
                f"<td>{point.false_positives[0]}</td></tr>"
            )
        yield "</table>"


def _common_classes(evaluations: Mapping[str, Evaluation], images: int) -> tuple[str, ...]:
    """The classes every evaluation shares; InvalidEvaluation unless all score the same `images` test images."""
    if not evaluations:
        raise InvalidEvaluation("evaluations is empty; expected at least one family's evaluation")
    first = next(iter(evaluations.values()))
    for family, evaluation in evaluations.items():
        if evaluation.classes != first.classes or not np.array_equal(evaluation.truth, first.truth):
            raise InvalidEvaluation(f"the evaluation of {family!r} is not on the same classes and test images")
        if len(evaluation.truth) != images:
            raise InvalidEvaluation(f"the evaluation of {family!r} has {len(evaluation.truth)} images, pixels {images}")
    return first.classes


def _operating_points(
    evaluations: Mapping[str, Evaluation], given: Mapping[str, Mapping[str, float]]
) -> dict[str, dict[str, float]]:
    """Each family's threshold per class: the one given, else its evaluation's."""
    unknown = sorted(set(given) - set(evaluations))
    if unknown:
        raise InvalidEvaluation(
            f"operating_points names unknown families {unknown}; expected some of {list(evaluations)}"
        )
    points: dict[str, dict[str, float]] = {}
    for family, evaluation in evaluations.items():
        points[family] = dict(zip(evaluation.classes, evaluation.thresholds.tolist(), strict=True))
        for name, threshold in given.get(family, {}).items():
            evaluation.class_index(name)
            if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
                raise InvalidEvaluation(f"operating point of {family!r} for {name!r} is {threshold!r}; expected 0 to 1")
            points[family][name] = float(threshold)
    return points


def _section(anchor: str, heading: str, parts: Iterator[str]) -> str:
    return f'<section id="{anchor}">\n<h2>{heading}</h2>\n' + "\n".join(parts) + "\n</section>"


def _figure(png: bytes, caption: str) -> str:
    """An inlined PNG with its caption, which is also its alternative text."""
    data = base64.b64encode(png).decode("ascii")
    text = _text(caption)
    return f'<figure><img src="data:image/png;base64,{data}" alt="{text}"><figcaption>{text}</figcaption></figure>'


def _text(value: str) -> str:
    """`value` escaped for HTML text and attribute values alike: user data never becomes markup."""
    return html.escape(str(value), quote=True)
