"""``get``: read online features for a few entities, with their statuses."""

from __future__ import annotations

import argparse
import json
from typing import Any

from feature_jobs.cli.common import registry, say
from feature_jobs.definitions import Registry
from feature_jobs.errors import OnlineRequestError
from feature_jobs.online.store import FeatureStore
from feature_jobs.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "get",
        help="read online features of entities (value, status, snapshot time)",
        description="Read features from the online store as a model would. Give the join "
        "keys with --key COLUMN=VALUE; repeating a column starts a new entity, e.g. --key "
        "user_id=1 --key user_id=2. Choose features with --view (all of its features), "
        "--feature VIEW:FEATURE (repeatable) or --service NAME.",
    )
    parser.add_argument("--view", help="read every feature of this view")
    parser.add_argument("--feature", action="append", help="VIEW:FEATURE (repeatable)")
    parser.add_argument("--service", help="a feature service")
    parser.add_argument(
        "--key", action="append", required=True, help="COLUMN=VALUE join key (repeatable)"
    )
    parser.add_argument("--json", action="store_true", help="print the response as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    reg = registry(settings)
    chosen = [x for x in (args.view, args.feature, args.service) if x]
    if len(chosen) != 1:
        raise OnlineRequestError("give exactly one of --view, --feature or --service")
    features: list[str] | str
    if args.view:
        view = reg.view(args.view)
        features = [f"{view.name}:{f.name}" for f in view.features]
    else:
        features = args.service or args.feature
    entities = parse_keys(args.key, key_types(reg))
    store = FeatureStore(settings, registry=reg)
    try:
        response = store.get_online_features(features, entities)
    finally:
        store.close()
    if args.json:
        say(json.dumps(response.to_dict(), indent=2, ensure_ascii=False))
        return 0
    for i, entity in enumerate(response.entities):
        say(", ".join(f"{k}={v!r}" for k, v in entity.items()))
        width = max(len(f) for f in response.features)
        for j, feature in enumerate(response.features):
            ts = response.feature_ts[i][j]
            say(
                f"  {feature:<{width}}  {response.values[i][j]!r:<24} "
                f"{response.statuses[i][j].value:<8} {ts.isoformat() if ts else '-'}"
            )
    return 0


def key_types(reg: Registry) -> dict[str, str]:
    """Logical type of every join key column the definitions know."""
    types: dict[str, str] = {}
    for entity in reg.entities.values():
        types.update(entity.join_keys)
    return types


def parse_keys(pairs: list[str], types: dict[str, str]) -> list[dict[str, Any]]:
    """``["user_id=1", "user_id=2"]`` -> two entity rows, values typed by the definitions."""
    entities: list[dict[str, Any]] = [{}]
    for pair in pairs:
        column, sep, text = pair.partition("=")
        if not sep or not column:
            raise OnlineRequestError(f"--key {pair!r} is not COLUMN=VALUE, e.g. user_id=42")
        if column not in types:
            raise OnlineRequestError(
                f"--key {column!r} is not a join key; known: {', '.join(sorted(types))}"
            )
        value: Any = text
        if types[column] == "long":
            try:
                value = int(text)
            except ValueError:
                raise OnlineRequestError(
                    f"--key {pair!r}: {column} is a long; give an integer"
                ) from None
        if column in entities[-1]:
            entities.append({})
        entities[-1][column] = value
    return entities
