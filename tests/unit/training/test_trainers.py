"""Both trainers learn the signal, are deterministic for a seed, and share one prediction interface."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from include.models import AlgorithmConfig
from include.training.trainers import train

FAST = {
    "lightgbm": {"num_boost_round": 300, "early_stopping_rounds": 15},
    "pytorch_mlp": {"epochs": 4, "hidden": [32, 16], "batch_size": 512},
}


@pytest.fixture(scope="module", params=sorted(FAST))
def trained(request, split, spec):
    algorithm = AlgorithmConfig(request.param, FAST[request.param])
    return algorithm, train(algorithm, split, spec, seed=11)


def test_a_learnable_signal_is_learnt_on_the_out_of_time_month(trained, split):
    _, model = trained
    auc = roc_auc_score(split.test["label"], model.predict_proba(split.test))
    assert auc > 0.75, f"{model.algorithm}: test ROC AUC {auc:.3f}"


def test_predictions_are_probabilities_one_per_row(trained, split):
    _, model = trained
    p = model.predict_proba(split.test)
    assert p.shape == (len(split.test),)
    assert np.all((p > 0) & (p < 1))


def test_same_seed_same_model(trained, split, spec):
    algorithm, model = trained
    again = train(algorithm, split, spec, seed=11)
    assert np.array_equal(model.predict_proba(split.test), again.predict_proba(split.test))


def test_the_device_and_effective_parameters_are_recorded(trained):
    algorithm, model = trained
    assert model.algorithm == algorithm.name
    assert model.device == "cpu"  # no GPU on this machine; CUDA is picked when torch sees one
    assert model.params["seed"] == 11
    assert model.train_seconds > 0


def test_early_stopping_keeps_the_best_validation_round(split, spec):
    lgbm = train(
        AlgorithmConfig("lightgbm", {"learning_rate": 0.3, "num_boost_round": 2000, "early_stopping_rounds": 5}),
        split,
        spec,
        seed=1,
    )
    assert lgbm.best_iteration < 2000
    losses = lgbm.history["binary_logloss"]
    assert min(losses) == losses[lgbm.best_iteration - 1]

    mlp = train(AlgorithmConfig("pytorch_mlp", {"epochs": 6, "patience": 1, "learning_rate": 0.05}), split, spec, 1)
    losses = mlp.history["validate_loss"]
    assert losses[mlp.best_epoch - 1] == min(losses)


def test_unseen_category_and_missing_numeric_are_scored(trained, split):
    _, model = trained
    odd = split.test.head(50).copy()
    odd["employment_status"] = "astronaut"
    odd["bureau_score"] = np.nan
    assert np.isfinite(model.predict_proba(odd)).all()


def test_a_frame_without_a_feature_fails_naming_it(trained, split):
    _, model = trained
    with pytest.raises(KeyError, match="utilization_last"):
        model.predict_proba(split.test.drop(columns="utilization_last"))


def test_lightgbm_keeps_the_declared_directions_in_every_prediction(split, spec):
    directions = {"utilization_last": 1, "bureau_score": -1}
    model = train(AlgorithmConfig("lightgbm", FAST["lightgbm"]), split, spec, seed=11, monotone=directions)
    for feature, sign in directions.items():
        rows = split.test[split.test[feature].notna()].head(300)  # a missing value has no direction
        step = float(split.train[feature].std())
        moved = rows.assign(**{feature: rows[feature] + step})
        change = sign * (model.predict_proba(moved) - model.predict_proba(rows))
        assert change.min() >= 0, f"{feature}: a row's PD moved against the declared direction by {change.min()}"
    # Recorded with the parameters, so a reproduction trains under the same constraints.
    assert model.params["monotone_constraints"] == [directions.get(c, 0) for c in spec.columns]
