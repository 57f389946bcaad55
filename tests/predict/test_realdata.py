"""Real data: Adult (binary, its own test split), Abalone (regression, 75/25), wine (multiclass, in scikit-learn).

The Adult and Abalone tests skip with a message when ../shared/data is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_wine

from altostratus.predict import (
    FileSource,
    ModelType,
    Predictor,
    ReadOptions,
    Rearrangement,
    TextSource,
    TrainingParameters,
)
from altostratus.predict.evaluation import evaluate
from altostratus.predict.inference import infer_schema
from altostratus.predict.table import Table, load_table
from altostratus.predict.training import train


def adult(folder: Path) -> tuple[Table, Table]:
    train_source, test_source = [FileSource(folder / "train.csv")], [FileSource(folder / "test.csv")]
    schema = infer_schema(train_source, ReadOptions(), target="income")
    return load_table(train_source, schema, ReadOptions()).table, load_table(test_source, schema, ReadOptions()).table


@pytest.mark.slow
@pytest.mark.parametrize(("algorithm", "minimum"), [("sgd", 0.88), ("auto", 0.92)])
def test_adult_binary_auc(adult_dir: Path, algorithm: str, minimum: float) -> None:
    training, test = adult(adult_dir)
    assert (training.rows, test.rows) == (32561, 16281)
    model = train(training, ModelType.BINARY, TrainingParameters.from_mapping({"algorithm": algorithm}))
    result = evaluate(model, test)
    assert result.value >= minimum, model.report
    assert result.baseline == 0.5
    assert result.details["baseline_accuracy"] == pytest.approx(0.7638, abs=1e-3)  # always "<=50K"
    assert result.details["accuracy"] > 0.84
    predictor = Predictor(model)
    first = predictor.predict({"age": "52", "education": "Doctorate", "marital-status": "Married-civ-spouse"})
    assert first["predictedLabel"] in {"0", "1"}


@pytest.mark.slow
def test_abalone_regression_rmse(abalone_path: Path) -> None:
    sources = [FileSource(abalone_path)]
    schema = infer_schema(sources, ReadOptions(), target="Var09")
    training = load_table(sources, schema, ReadOptions(), Rearrangement(0, 75)).table
    test = load_table(sources, schema, ReadOptions(), Rearrangement(0, 75, complement=True)).table
    assert training.rows + test.rows == 4177
    results = {}
    for algorithm in ("sgd", "auto"):
        model = train(training, ModelType.REGRESSION, TrainingParameters.from_mapping({"algorithm": algorithm}))
        results[algorithm] = evaluate(model, test)
    assert results["auto"].value <= 2.3
    assert results["sgd"].value <= 2.4
    assert 2.9 < results["auto"].baseline < 3.4  # predicting the training mean


def test_wine_multiclass_macro_f1() -> None:
    data = load_wine()
    header = ",".join([name.replace("/", "_") for name in data.feature_names] + ["cultivar"])
    lines = [header] + [",".join([*map(str, row), f"class_{t}"]) for row, t in zip(data.data, data.target, strict=True)]
    sources = [TextSource("wine.csv", "\n".join(lines))]
    schema = infer_schema(sources, ReadOptions(), target="cultivar")
    split = Rearrangement(0, 70, strategy="random", seed="wine")
    training = load_table(sources, schema, ReadOptions(), split).table
    test = load_table(sources, schema, ReadOptions(), Rearrangement(0, 70, True, "random", "wine")).table
    model = train(training, ModelType.MULTICLASS, TrainingParameters())
    result = evaluate(model, test)
    assert result.metric == "MulticlassAvgFScore" and result.value > 0.9
    assert result.baseline < 0.3 and np.array(result.details["confusion_matrix"]).sum() == test.rows
