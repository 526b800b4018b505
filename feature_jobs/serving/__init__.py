"""HTTP serving of online features (FastAPI): ``python -m feature_jobs serve``."""
