"""FeatureService: a named list of features a model consumes, for training and serving."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from feature_jobs.definitions.types import check_name
from feature_jobs.errors import DefinitionError


@dataclass(frozen=True)
class FeatureRef:
    """A reference ``view:feature`` to one feature of one view."""

    view: str
    feature: str

    @classmethod
    def parse(cls, text: str) -> FeatureRef:
        """Parse ``"view:feature"``; a clear error for anything else."""
        parts = text.strip().split(":")
        if len(parts) != 2 or not all(parts):
            raise DefinitionError(
                f"feature reference {text!r} is invalid; write it as view:feature"
            )
        return cls(view=parts[0], feature=parts[1])

    def __str__(self) -> str:
        return f"{self.view}:{self.feature}"


@dataclass(frozen=True, kw_only=True)
class FeatureService:
    """Features a model uses, by reference (``"view:feature"``)."""

    name: str
    features: Sequence[str]
    description: str = ""
    owner: str = ""

    def __post_init__(self) -> None:
        check_name("feature service", self.name)
        if not self.features:
            raise DefinitionError(f"feature service {self.name}: features is empty")
        object.__setattr__(self, "features", tuple(self.features))
        for ref in self.features:
            FeatureRef.parse(ref)

    @property
    def refs(self) -> tuple[FeatureRef, ...]:
        """The parsed feature references."""
        return tuple(FeatureRef.parse(ref) for ref in self.features)
