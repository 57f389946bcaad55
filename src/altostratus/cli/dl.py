"""`alto dl`: image classifiers trained as experiments, compared, exported, reported and run on images.

Commands work on the data directory as the server does (Mode.TOOL): `train` records the experiment and queues
its job, which the running server's workers take (or this process, with --here); it waits with a progress bar
per family (epoch, loss, validation accuracy, images a second) unless given --no-wait.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from altostratus.cli.options import data_dir_option, json_option, open_platform
from altostratus.cli.output import CommandFailed, print_json, print_table

POLL_SECONDS = 0.5
family_option = click.option("--family", help="A trained family of the experiment (default: the best one).")


@click.group("dl")
def dl() -> None:
    """Image classifiers: nearest neighbour, linear, CNN and transfer learning, trained and compared."""


@dl.command("train")
@click.argument("source")
@click.option("--test", "test_source", help="A separate test dataset (default: a tenth of SOURCE split off).")
@click.option("--family", "families", multiple=True, help="A family to train (repeat; default all four).")
@click.option("--param", "params", multiple=True, metavar="FAMILY.NAME=VALUE", help="A family's parameter (JSON).")
@click.option("--name", help="The experiment's name (default: the source).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the split and every family.")
@click.option("--output", help="s3://bucket/prefix/ to write the evaluation summary and the report to.")
@click.option("--here", is_flag=True, help="Train in this process rather than in the running server's workers.")
@click.option("--no-wait", is_flag=True, help="Return once the experiment is queued.")
@json_option
@data_dir_option
def train(
    source: str,
    test_source: str | None,
    families: tuple[str, ...],
    params: tuple[str, ...],
    name: str | None,
    seed: int,
    output: str | None,
    here: bool,
    no_wait: bool,
    as_json: bool,
    data_dir: Path | None,
) -> None:
    """Train classifiers on SOURCE (s3://bucket/prefix/, s3://.../x.csv or .manifest, builtin:digits|mnist)."""
    from altostratus.dl.experiment_store import DEFAULT_FAMILIES, ExperimentSpec

    spec = ExperimentSpec(
        name=name or source,
        train=source,
        test=test_source,
        families=families or DEFAULT_FAMILIES,
        params=_parsed_params(params),
        seed=seed,
        output=output,
    )
    with open_platform(data_dir) as platform:
        experiment = platform.experiments.start(spec)
        click.echo(f"experiment {experiment.experiment_id} queued", err=True)
        if no_wait:
            _show(experiment.to_json(), as_json)
            return
        worker = _train_here(platform, experiment.experiment_id) if here else None
        try:
            finished = _wait(platform.experiments, experiment.experiment_id, quiet=as_json)
        finally:
            if worker is not None:
                worker.join()
    _show(finished, as_json)
    if finished["Status"] != "COMPLETED":
        raise CommandFailed(f"experiment {finished['ExperimentId']} {finished['Status']}: {finished['Message']}")


@dl.command("list")
@json_option
@data_dir_option
def list_experiments(as_json: bool, data_dir: Path | None) -> None:
    """Every experiment, newest first."""
    with open_platform(data_dir) as platform:
        found = [experiment.to_json() for experiment in platform.experiments.list()]
    if as_json:
        print_json(found)
        return
    rows = [
        (
            e["ExperimentId"],
            e["Name"],
            e["Status"],
            e["BestFamily"] or "-",
            _percent((e["Evaluation"] or {}).get("accuracy")),
        )
        for e in found
    ]
    print_table(rows, ["ID", "NAME", "STATUS", "BEST", "ACCURACY"])


@dl.command("evaluate")
@click.argument("experiment_id")
@click.option("--source", help="Evaluate on this dataset instead of the experiment's test images.")
@family_option
@json_option
@data_dir_option
def evaluate_command(
    experiment_id: str, source: str | None, family: str | None, as_json: bool, data_dir: Path | None
) -> None:
    """Each family's figures on the test images, or the chosen family's on another dataset (--source)."""
    with open_platform(data_dir) as platform:
        experiment = platform.experiments.get(experiment_id).to_json()
        if source is None:
            _show(experiment, as_json)
            return
        from altostratus.dl.evaluation import evaluate
        from altostratus.dl.experiments import evaluation_record
        from altostratus.dl.opening import open_test_images

        model = platform.experiments.model(experiment_id, family)
        images = open_test_images(platform.lake, source, model.shape_, model.classes_)
        found = evaluate(images.classes, images.labels, model.predict_proba(images.pixels), thresholds=model.thresholds)
    figures = evaluation_record(found)
    record = {"family": model.family, "source": source, "images": len(images)} | figures
    if as_json:
        print_json(record)
        return
    click.echo(f"{model.family} on {source}: accuracy {_percent(found.accuracy)}, macro F1 {found.macro_f1:.3f}")
    _per_class(figures["per_class"])


@dl.command("export")
@click.argument("experiment_id")
@family_option
@click.option("--format", "kind", type=click.Choice(["onnx", "archive"]), default="onnx", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@data_dir_option
def export(experiment_id: str, family: str | None, kind: str, output: Path, data_dir: Path | None) -> None:
    """Write a trained family as ONNX (served by ONNX Runtime alone) or as its archive (`load_classifier`)."""
    with open_platform(data_dir) as platform:
        data = platform.experiments.artifact(experiment_id, family, "onnx" if kind == "onnx" else "model")
    output.write_bytes(data)
    click.echo(f"{output}: {len(data):,} bytes", err=True)


@dl.command("report")
@click.argument("experiment_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@data_dir_option
def report(experiment_id: str, output: Path, data_dir: Path | None) -> None:
    """Write the experiment's comparison report (HTML with its plots) to OUTPUT."""
    with open_platform(data_dir) as platform:
        page = platform.experiments.report(experiment_id)
    output.write_bytes(page)
    click.echo(f"{output}: {len(page):,} bytes", err=True)


@dl.command("predict")
@click.argument("experiment_id")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@family_option
@click.option("--top", type=click.IntRange(1, 100), default=3, show_default=True, help="Classes shown per image.")
@json_option
@data_dir_option
def predict(
    experiment_id: str, images: tuple[Path, ...], family: str | None, top: int, as_json: bool, data_dir: Path | None
) -> None:
    """The most probable classes of each image file, by a trained family (the best by default)."""
    import numpy as np

    from altostratus.dl.loaders import decode_image

    with open_platform(data_dir) as platform:
        model = platform.experiments.model(experiment_id, family)
    pixels = np.stack([decode_image(path.read_bytes(), model.shape_) for path in images])
    probabilities = model.predict_proba(pixels)
    answers = []
    for path, row in zip(images, probabilities, strict=True):
        best = np.argsort(-row, kind="stable")[:top]
        answers.append(
            {"image": str(path), "classes": [{"name": model.classes_[i], "probability": float(row[i])} for i in best]}
        )
    if as_json:
        print_json(answers)
        return
    for path, row in zip(images, probabilities, strict=True):
        best = np.argsort(-row, kind="stable")[:top]
        click.echo(f"{path}: " + ", ".join(f"{model.classes_[i]} {_percent(float(row[i]))}" for i in best))


@dl.command("stop")
@click.argument("experiment_id")
@data_dir_option
def stop(experiment_id: str, data_dir: Path | None) -> None:
    """Stop an experiment after its current epoch."""
    with open_platform(data_dir) as platform:
        click.echo(platform.experiments.stop(experiment_id).status)


@dl.command("delete")
@click.argument("experiment_id")
@data_dir_option
def delete(experiment_id: str, data_dir: Path | None) -> None:
    """Stop an experiment and delete it, its models and its report."""
    with open_platform(data_dir) as platform:
        platform.experiments.delete(experiment_id)


def _parsed_params(items: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    params: dict[str, dict[str, Any]] = {}
    for item in items:
        target, equals, text = item.partition("=")
        family, dot, name = target.partition(".")
        if not equals or not dot or not family or not name:
            raise click.BadParameter(f"{item!r}; expected FAMILY.NAME=VALUE", param_hint="--param")
        try:
            value = json.loads(text)
        except ValueError:
            value = text  # a bare word is a string: --param linear.loss=svm
        params.setdefault(family, {})[name] = value
    return params


def _train_here(platform: Any, experiment_id: str) -> threading.Thread:
    """A thread that runs queued training jobs in this process until the experiment has settled."""
    from altostratus.dl.experiments import TRAIN_JOB
    from altostratus.jobs.runner import JobRunner

    runner = JobRunner(platform.jobs, {TRAIN_JOB: platform.experiments.run}, clock=platform.clock)
    worker_id = f"cli-{time.time_ns()}"

    def work() -> None:
        # an older queued experiment may be taken first: go on until this one has settled
        while not platform.experiments.get(experiment_id).status.is_terminal:
            if not runner.run_one(worker_id):
                time.sleep(POLL_SECONDS)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    return worker


def _wait(experiments: Any, experiment_id: str, *, quiet: bool) -> dict[str, Any]:
    """Poll the experiment until it settles, a progress bar per family on a terminal (one line per epoch else)."""
    bars: dict[str, tqdm[Any]] = {}
    seen: dict[str, Any] = {}
    terminal = not quiet and sys.stderr.isatty()
    while True:
        experiment = experiments.get(experiment_id)
        for entry in experiment.families:
            _progress(entry, bars, seen, terminal, quiet)
        if experiment.status.is_terminal:
            for bar in bars.values():
                bar.close()
            return dict(experiment.to_json())
        time.sleep(POLL_SECONDS)


def _progress(entry: dict[str, Any], bars: dict[str, Any], seen: dict[str, Any], terminal: bool, quiet: bool) -> None:
    family, epoch, epochs = entry["family"], entry.get("epoch"), entry.get("epochs")
    if epoch is None or quiet or seen.get(family) == epoch:
        return
    seen[family] = epoch
    figures = {
        "loss": "-" if entry.get("loss") is None else f"{entry['loss']:.3f}",
        "val": _percent(entry.get("validation_accuracy")),
        "img/s": f"{entry.get('images_per_second', 0):.0f}",
    }
    if not terminal:
        click.echo(f"{family}: epoch {epoch}/{epochs} " + " ".join(f"{k} {v}" for k, v in figures.items()), err=True)
        return
    bar = bars.get(family)
    if bar is None:
        bar = bars[family] = tqdm(total=epochs, desc=family, unit="epoch", file=sys.stderr)
    bar.update(epoch - bar.n)
    bar.set_postfix(figures)


def _show(experiment: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(experiment)
        return
    click.echo(f"{experiment['ExperimentId']} {experiment['Name']}: {experiment['Status']} {experiment['Message']}")
    rows = [
        (
            entry["family"],
            entry.get("status", "PENDING"),
            _percent(entry.get("validation_accuracy")),
            _percent(entry.get("test_accuracy")),
            "-" if entry.get("macro_f1") is None else f"{entry['macro_f1']:.3f}",
            f"{entry.get('seconds', 0):.1f}",
            entry.get("device", "-"),
        )
        for entry in experiment["Families"]
    ]
    print_table(rows, ["FAMILY", "STATUS", "VALIDATION", "TEST", "MACRO F1", "SECONDS", "DEVICE"])
    if experiment["BestFamily"]:
        click.echo(f"best: {experiment['BestFamily']}")
    if experiment["Evaluation"]:
        _per_class(experiment["Evaluation"]["per_class"])
    for key, reason in experiment["Skipped"]:
        click.echo(f"skipped {key}: {reason}", err=True)


def _per_class(per_class: dict[str, dict[str, Any]]) -> None:
    rows = [
        (name, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", v["support"], f"{v['threshold']:.3f}")
        for name, v in per_class.items()
    ]
    print_table(rows, ["CLASS", "PRECISION", "RECALL", "F1", "IMAGES", "THRESHOLD"])


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"
