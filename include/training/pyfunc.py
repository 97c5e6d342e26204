"""The MLflow pyfunc wrapper both trainers are logged with, so inference loads any model the same way.

`mlflow.pyfunc.load_model("models:/<name>@champion").predict(frame)` returns the PD of each
row; `.unwrap_python_model().model` is the fitted LightGBM or MLP model itself.
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc


class PDModel(mlflow.pyfunc.PythonModel):
    def __init__(self, model: Any):
        self.model = model

    def predict(self, context, model_input, params=None):
        """The PD of each row of the DataFrame `model_input` (1-D)."""
        return self.model.predict_proba(model_input)
