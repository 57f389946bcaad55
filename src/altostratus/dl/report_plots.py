"""The comparison report's plots, each drawn on a Figure of its own and returned as PNG bytes.

No pyplot: its global registry of figures is shared by every thread and keeps each figure until closed, whereas
a Figure built here belongs to one call and is cleared as soon as its PNG is written. Text taken from users'
data (class and family names) is drawn with parse_math=False, so a class called "$5 bill" reads as written
instead of failing as TeX.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from altostratus.dl.evaluation import Evaluation, precision_recall_curve, threshold_tradeoff
from altostratus.dl.images import Pixels

DPI = 100
# Above this many classes the confusion matrix loses its counts and the curves their legend: they would not fit.
_ANNOTATED_CLASSES = 20
_TILE_COLUMNS = 8
_CAPTION_CHARACTERS = 12


def accuracy_bars(evaluations: Mapping[str, Evaluation]) -> bytes:
    """Accuracy and macro F1 of each family side by side, each bar labelled with its value."""
    families = list(evaluations)
    figure = Figure(figsize=(max(4.0, 1.2 * len(families) + 2), 3.2), dpi=DPI)
    figure.subplots_adjust(left=0.12, right=0.98, bottom=0.12, top=0.95)
    axes = figure.add_subplot()
    places = np.arange(len(families))
    for offset, (label, values) in zip(
        (-0.2, 0.2),
        (
            ("accuracy", [evaluation.accuracy for evaluation in evaluations.values()]),
            ("macro F1", [evaluation.macro_f1 for evaluation in evaluations.values()]),
        ),
        strict=True,
    ):
        bars = axes.bar(places + offset, values, width=0.4, label=label)
        axes.bar_label(bars, labels=[f"{value:.1%}" for value in values], fontsize=7)
    axes.set_xticks(places, families, parse_math=False)
    axes.set_ylim(0, 1.1)
    axes.set_ylabel("on the test images")
    axes.legend(loc="lower right", fontsize=8)
    return _png(figure)


def confusion_matrix(family: str, evaluation: Evaluation) -> bytes:
    """The confusion matrix of one family: true classes down, predicted across, counts in the cells."""
    classes = len(evaluation.classes)
    side = max(3.5, 0.42 * classes + 1.8)
    figure = Figure(figsize=(side, side), dpi=DPI)
    margin = 1.1 / side  # a class name cut to _CAPTION_CHARACTERS fits in 1.1 inches at the tick font size
    figure.subplots_adjust(left=margin, right=0.98, bottom=margin, top=1 - 0.35 / side)
    axes = figure.add_subplot()
    axes.imshow(evaluation.confusion, cmap="Blues", interpolation="nearest")
    _class_ticks(axes, evaluation.classes)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(family, parse_math=False)
    if classes <= _ANNOTATED_CLASSES:
        darkest = max(int(evaluation.confusion.max()), 1)
        for (row, column), count in np.ndenumerate(evaluation.confusion):
            if count:
                colour = "white" if count > darkest / 2 else "black"
                axes.text(column, row, str(count), ha="center", va="center", fontsize=7, color=colour)
    return _png(figure)


def mistakes_grid(evaluation: Evaluation, pixels: Pixels, shown: Sequence[int]) -> bytes:
    """The images at `shown` in a grid, each captioned with its true and predicted class and the confidence."""
    columns = min(_TILE_COLUMNS, len(shown))
    rows = math.ceil(len(shown) / columns)
    height, width, channels = pixels.shape[1:]
    # One mosaic, one imshow: an image per tile cost more than the rest of the plot; captions go in the gaps.
    gap = max(1, round(height * 0.45))
    mosaic = np.full((rows * (height + gap), columns * (width + 2), channels), 255, dtype=np.uint8)
    for place, index in enumerate(shown):
        row, column = divmod(place, columns)
        top, left = row * (height + gap), column * (width + 2) + 1
        mosaic[top : top + height, left : left + width] = pixels[index]
    figure = Figure(figsize=(1.1 * columns, 1.1 * rows * (height + gap) / (width + 2)), dpi=DPI)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    image = mosaic[:, :, 0] if channels == 1 else mosaic
    axes.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest", aspect="auto")
    for place, index in enumerate(shown):
        row, column = divmod(place, columns)
        truth = _short(evaluation.classes[evaluation.truth[index]])
        predicted = _short(evaluation.classes[evaluation.predicted[index]])
        confidence = evaluation.probabilities[index, evaluation.predicted[index]]
        caption = f"true {truth}\nsaid {predicted} {confidence:.0%}"
        place_x, place_y = (column + 0.5) * (width + 2) - 0.5, row * (height + gap) + height
        axes.text(place_x, place_y, caption, ha="center", va="top", fontsize=6, parse_math=False)
    axes.set_axis_off()
    return _png(figure)


def precision_recall(family: str, evaluation: Evaluation) -> bytes:
    """One family's precision-recall curve for each class, one-vs-rest, with its average precision."""
    figure = Figure(figsize=(5.0, 4.0), dpi=DPI)
    figure.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.93)
    axes = figure.add_subplot()
    lines: list[Artist] = []
    labels: list[str] = []
    for name in evaluation.classes:
        curve = precision_recall_curve(evaluation, name)
        # "pre": each precision holds over the recall its threshold adds, so the area under the steps is the AP
        recall, precision = np.r_[0.0, curve.recall], np.r_[curve.precision[0], curve.precision]
        lines += axes.step(recall, precision, where="pre", linewidth=1)
        labels.append(f"{_short(name)} (AP {curve.average_precision:.2f})")
    axes.set_xlim(0, 1.01)
    axes.set_ylim(0, 1.05)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_title(family, parse_math=False)
    if len(evaluation.classes) <= _ANNOTATED_CLASSES:
        _plain_legend(axes, lines, labels, fontsize=6, ncols=2, loc="lower left")
    return _png(figure)


def tradeoff(family: str, evaluation: Evaluation, operating_points: Mapping[str, float]) -> bytes:
    """False positives against recall of each class in `operating_points` (class -> threshold) as its threshold
    moves over its scores, for one family; each class's operating point marked."""
    figure = Figure(figsize=(5.5, 4.0), dpi=DPI)
    figure.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.93)
    axes = figure.add_subplot()
    lines: list[Artist] = []
    for name, threshold in operating_points.items():
        index = evaluation.class_index(name)
        scores = evaluation.probabilities[:, index]
        levels = np.r_[np.unique(scores), threshold]
        curve = threshold_tradeoff(evaluation.truth, evaluation.probabilities, index, levels)
        (line,) = axes.plot(curve.recall[:-1], curve.false_positives[:-1], linewidth=1)
        lines.append(line)
        point = (float(curve.recall[-1]), int(curve.false_positives[-1]))
        axes.plot(*point, marker="o", markersize=6, color=line.get_color())
    # At threshold 0 every image of other classes is a false positive; a log scale keeps the few near the
    # operating points readable beside those hundreds.
    axes.set_yscale("symlog", linthresh=1)
    axes.yaxis.set_minor_locator(NullLocator())  # dozens of unlabelled ticks, each an artist to lay out
    axes.set_xlim(0, 1.02)
    axes.set_xlabel("recall of the class")
    axes.set_ylabel("false positives: other classes' images detected")
    axes.set_title(f"{family}: as each class's threshold moves (o: operating point)", parse_math=False)
    if 0 < len(operating_points) <= _ANNOTATED_CLASSES:
        _plain_legend(axes, lines, [_short(name) for name in operating_points], fontsize=6, ncols=2, loc="upper left")
    return _png(figure)


def _class_ticks(axes: Axes, classes: Sequence[str]) -> None:
    """Class names on both axes of a matrix, turned on the x axis when many would collide."""
    places = range(len(classes))
    size = 8 if len(classes) <= _ANNOTATED_CLASSES else 5
    turned = len(classes) > 6
    names = [_short(name) for name in classes]
    axes.set_xticks(
        places,
        names,
        rotation=45 if turned else 0,
        ha="right" if turned else "center",
        fontsize=size,
        parse_math=False,
    )
    axes.set_yticks(places, names, fontsize=size, parse_math=False)


def _plain_legend(axes: Axes, lines: Sequence[Artist], labels: Sequence[str], **options: Any) -> None:
    """A legend of `lines` named by `labels` drawn as written: never as TeX, and shown even when a name starts
    with "_" (which matplotlib leaves out of legends it gathers itself)."""
    legend = axes.legend(lines, labels, **options)
    for text in legend.get_texts():
        text.set_parse_math(False)


def _short(name: str) -> str:
    """A class name cut to fit under a tile; the page lists the names in full."""
    return name if len(name) <= _CAPTION_CHARACTERS else name[: _CAPTION_CHARACTERS - 1] + "…"


def _png(figure: Figure) -> bytes:
    """The figure drawn by the Agg canvas as PNG, without the matplotlib version in its metadata; the figure
    is cleared after, so its artists are freed at once."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, pil_kwargs={"compress_level": 3})
    figure.clear()
    return buffer.getvalue()
