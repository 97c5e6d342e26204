"""Integration tests share the local MLflow server with the user: what a module registers there
(models, experiments, runs in them) is deleted when the module ends, also when it fails."""

from __future__ import annotations

import pytest


def _registered_models(client) -> set[str]:
    names, token = set(), None
    while True:
        page = client.search_registered_models(max_results=200, page_token=token)
        names |= {model.name for model in page}
        token = page.token
        if not token:
            return names


@pytest.fixture(scope="module", autouse=True)
def mlflow_entities_of_the_module_removed(stack, settings):
    from mlflow.tracking import MlflowClient

    conn = settings.connections["mlflow_default"]
    client = MlflowClient(tracking_uri=f"{conn.schema}://{conn.host}:{conn.port}")
    models = _registered_models(client)
    experiments = {e.experiment_id for e in client.search_experiments(max_results=1000)}
    yield
    for name in _registered_models(client) - models:
        client.delete_registered_model(name)
    for experiment in client.search_experiments(max_results=1000):
        if experiment.experiment_id not in experiments:
            client.delete_experiment(experiment.experiment_id)
