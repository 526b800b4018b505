"""Entity: the thing features describe, identified by one or more typed join keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from feature_jobs.definitions.types import RESERVED_COLUMNS, check_name, check_type
from feature_jobs.errors import DefinitionError


@dataclass(frozen=True, kw_only=True)
class Entity:
    """An entity such as a user or a merchant.

    Args:
        name: identifier of the entity (lowercase, ``_``).
        join_keys: ordered mapping of key column to logical type ("long" or "string").
            Several keys make a composite key; their order is part of the identity.
        description: free text for humans.
    """

    name: str
    join_keys: Mapping[str, str]
    description: str = ""
    _key_order: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"entity {self.name}"
        check_name("entity", self.name)
        if not self.join_keys:
            raise DefinitionError(f"{where}: join_keys is empty; declare at least one key")
        for key, dtype in self.join_keys.items():
            check_name("join key", key, where)
            check_type(dtype, f"{where}: join key {key}")
            if dtype not in ("long", "string"):
                raise DefinitionError(
                    f"{where}: join key {key} has type {dtype!r}; keys must be 'long' or 'string'"
                )
            if key in RESERVED_COLUMNS:
                raise DefinitionError(f"{where}: join key {key!r} is a reserved column name")
        object.__setattr__(self, "join_keys", dict(self.join_keys))
        object.__setattr__(self, "_key_order", tuple(self.join_keys))

    @property
    def keys(self) -> tuple[str, ...]:
        """Join key column names, in declaration order."""
        return self._key_order
