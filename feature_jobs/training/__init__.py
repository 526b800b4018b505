"""Training sets: point-in-time (event-time) and as-known joins over Delta, with manifests.

``build_training_set`` is the entry point the CLI (``python -m feature_jobs training-set``)
and the DAGs call; see :mod:`feature_jobs.training.job` for the pipeline.
"""

from feature_jobs.training.job import TrainingSetResult, build_training_set
from feature_jobs.training.request import TrainingSetRequest

__all__ = ["TrainingSetRequest", "TrainingSetResult", "build_training_set"]
