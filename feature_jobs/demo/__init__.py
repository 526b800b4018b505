"""The demo domain: a deterministic generator of card transactions and chargeback labels."""

from feature_jobs.demo.generator import DemoSummary, generate

__all__ = ["DemoSummary", "generate"]
