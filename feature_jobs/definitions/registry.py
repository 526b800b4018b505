"""Load every definition from a Python module and check them as a whole."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType

from feature_jobs.definitions.entity import Entity
from feature_jobs.definitions.feature_view import FeatureView
from feature_jobs.definitions.service import FeatureRef, FeatureService
from feature_jobs.definitions.source import Source
from feature_jobs.errors import DefinitionError


@dataclass(frozen=True)
class Registry:
    """All entities, sources, views and services of one definitions module."""

    entities: dict[str, Entity]
    sources: dict[str, Source]
    views: dict[str, FeatureView]
    services: dict[str, FeatureService]

    def view(self, name: str) -> FeatureView:
        """The view called ``name``, or a DefinitionError listing the known views."""
        try:
            return self.views[name]
        except KeyError:
            raise DefinitionError(
                f"unknown feature view {name!r}; known views: {', '.join(sorted(self.views))}"
            ) from None

    def service(self, name: str) -> FeatureService:
        """The feature service called ``name``, or a DefinitionError listing the known ones."""
        try:
            return self.services[name]
        except KeyError:
            raise DefinitionError(
                f"unknown feature service {name!r}; known: {', '.join(sorted(self.services))}"
            ) from None

    def resolve(self, refs: Iterable[str | FeatureRef]) -> list[FeatureRef]:
        """Parse and check ``view:feature`` references against the definitions."""
        resolved = []
        for ref in refs:
            parsed = ref if isinstance(ref, FeatureRef) else FeatureRef.parse(ref)
            self.view(parsed.view).feature(parsed.feature)
            resolved.append(parsed)
        if not resolved:
            raise DefinitionError("no features requested; name at least one view:feature")
        return resolved


def build_registry(objects: Sequence[object]) -> Registry:
    """Check a collection of definition objects as a whole and index them by name."""
    entities: dict[str, Entity] = {}
    sources: dict[str, Source] = {}
    views: dict[str, FeatureView] = {}
    services: dict[str, FeatureService] = {}
    for obj in objects:
        if isinstance(obj, FeatureView):
            _add(views, obj.name, obj, "feature view")
            _add(entities, obj.entity.name, obj.entity, "entity")
            _add(sources, obj.source.name, obj.source, "source")
        elif isinstance(obj, Entity):
            _add(entities, obj.name, obj, "entity")
        elif isinstance(obj, Source):
            _add(sources, obj.name, obj, "source")
        elif isinstance(obj, FeatureService):
            _add(services, obj.name, obj, "feature service")
    registry = Registry(entities=entities, sources=sources, views=views, services=services)
    for service in services.values():
        try:
            registry.resolve(service.features)
        except DefinitionError as exc:
            raise DefinitionError(f"feature service {service.name}: {exc}") from None
    return registry


def _add(index: dict, name: str, obj: object, kind: str) -> None:  # type: ignore[type-arg]
    existing = index.get(name)
    if existing is not None and existing != obj:
        raise DefinitionError(
            f"two different {kind} definitions are named {name!r}; rename one of them"
        )
    index[name] = obj


_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def load_registry(module_name: str = "features") -> Registry:
    """Import ``module_name`` and collect every definition reachable from its attributes."""
    if not _MODULE_NAME.match(module_name):  # no relative or path-like imports
        raise DefinitionError(
            f"SKEWLESS_FEATURES={module_name[:80]!r} is not a module name; give a dotted "
            "name such as my_team.features"
        )
    try:
        module = importlib.import_module(module_name)
    except DefinitionError:
        raise
    except ModuleNotFoundError as exc:
        raise DefinitionError(
            f"cannot import definitions module {module_name!r} ({exc}); "
            "set SKEWLESS_FEATURES to an importable module"
        ) from None
    return build_registry(_collect(module))


def _collect(module: ModuleType) -> list[object]:
    found: list[object] = []
    for value in vars(module).values():
        if isinstance(value, (Entity, Source, FeatureView, FeatureService)):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(
                v for v in value if isinstance(v, (Entity, Source, FeatureView, FeatureService))
            )
    return found
