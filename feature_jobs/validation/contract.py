"""A contract = structural part (from definitions) + domain part (``schemas/``), as Pandera.

:func:`view_contract` and :func:`source_contract` merge the two parts into rules;
:meth:`Contract.pandera_schema` turns them into a ``pandera.pyspark.DataFrameSchema``.

Pandera's PySpark backend runs one Spark job per check. Given the rule counts of one
aggregation pass (``counts``), every rule check reads its count instead, so validating a
snapshot costs one Spark job whatever the number of checks. Without counts the schema is
an ordinary standalone Pandera schema whose checks each query the data (the bench
compares both).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any

from feature_jobs.definitions import FeatureView, Source
from feature_jobs.errors import DefinitionError, first_line
from feature_jobs.validation.rules import (
    Rule,
    allowed_values_of,
    bounds_of,
    from_pandera_check,
    not_null,
)
from feature_jobs.validation.structural import (
    SPARK_TYPE_NAMES,
    ColumnSpec,
    SourceFacts,
    Structure,
    source_structure,
    view_structure,
)

if TYPE_CHECKING:
    from pandera.api.checks import Check
    from pandera.api.pyspark.container import DataFrameSchema
    from pyspark.sql.types import StructType

#: Spark SQL type names of the logical types, as ``DataType.simpleString()`` prints them.
SIMPLE_TYPES = {
    "string": "string",
    "long": "bigint",
    "double": "double",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "date": "date",
}
NUMERIC = frozenset({"long", "double", "boolean"})


@dataclass(frozen=True)
class Contract:
    """Everything one kind of batch must satisfy.

    Attributes:
        name: the view or source name (Pandera's schema name).
        columns: declared columns in order.
        rules: every row rule, structural then domain.
        native_checks: domain checks with no rule twin, run by Pandera as they are,
            as ``(column or None, check)``.
        strict: whether columns outside ``columns`` are an error.
    """

    name: str
    columns: tuple[ColumnSpec, ...]
    rules: tuple[Rule, ...]
    native_checks: tuple[tuple[str | None, Check], ...] = ()
    strict: bool = True

    def column(self, name: str) -> ColumnSpec | None:
        """The declared column called ``name``, if any."""
        return next((c for c in self.columns if c.name == name), None)

    def mistyped(self, schema: StructType) -> set[str]:
        """Declared columns present in ``schema`` with another type."""
        actual = {f.name: f.dataType.simpleString() for f in schema.fields}
        return {
            c.name
            for c in self.columns
            if c.name in actual and actual[c.name] != SIMPLE_TYPES[c.dtype]
        }

    def runnable(self, schema: StructType) -> tuple[Rule, ...]:
        """Rules whose columns are all present (and well typed, for comparisons).

        The others are reported by Pandera's presence and type checks instead, which
        is the failure a person should fix first.
        """
        present = set(schema.fieldNames())
        mistyped = self.mistyped(schema)
        return tuple(
            rule
            for rule in self.rules
            if all(c in present for c in rule.reads)
            and not (rule.typed and any(c in mistyped for c in rule.reads))
        )

    def pandera_schema(self, counts: Mapping[str, int] | None = None) -> DataFrameSchema:
        """The Pandera schema; with ``counts`` (rule key -> violations) it runs no Spark job."""
        import pandera.pyspark as pa
        import pyspark.sql.types as T

        declared = {c.name for c in self.columns}
        columns = {}
        for spec in self.columns:
            checks = [_rule_check(r, counts) for r in self.rules if r.column == spec.name]
            checks += [check for column, check in self.native_checks if column == spec.name]
            columns[spec.name] = pa.Column(
                getattr(T, SPARK_TYPE_NAMES[spec.dtype])(),
                checks=checks,
                nullable=True,  # nullability is a rule, counted in the same pass
                required=spec.required,
                name=spec.name,
            )
        frame_checks = [_rule_check(r, counts) for r in self.rules if r.column not in declared]
        frame_checks.append(_order_check([c.name for c in self.columns]))
        frame_checks += [check for column, check in self.native_checks if column not in declared]
        return pa.DataFrameSchema(columns, checks=frame_checks, strict=self.strict, name=self.name)


def _rule_check(rule: Rule, counts: Mapping[str, int] | None) -> Check:
    from pandera.api.checks import Check

    def passed(data: Any, rule_key: str) -> bool:
        if counts is not None:
            # Rules the pass skipped (absent or mistyped column) fail elsewhere.
            return counts.get(rule_key, 0) == 0
        frame = getattr(data, "dataframe", data)
        if not all(c in frame.columns for c in rule.reads):
            return True
        if rule.kind == "non_empty":
            return bool(frame.limit(1).count() > 0)
        return bool(frame.filter(rule.violation()).limit(1).count() == 0)

    return Check(passed, name=rule.name, error=rule.name, rule_key=rule.key)


def _order_check(expected: list[str]) -> Check:
    from pandera.api.checks import Check

    def in_order(frame: Any, order: tuple[str, ...]) -> bool:
        present = [c for c in frame.columns if c in order]
        return present == [c for c in order if c in present]

    return Check(in_order, name="column_order", error="column_order", order=tuple(expected))


# -- building contracts -----------------------------------------------------------------


def _domain_model(module: str, registry: str, name: str) -> Any:
    """The hand-written model (or rules) of ``name`` in ``module.registry``, if declared.

    A schemas module that does not exist means "no hand-written rules". One that exists
    but fails to import is an error: skipping it would drop every domain rule it declares
    and let the gate pass batches it should refuse.
    """
    try:
        loaded = import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module == exc.name or module.startswith(exc.name + ".")):
            return None
        raise _import_failed(module, exc) from None
    except Exception as exc:
        raise _import_failed(module, exc) from None
    models = getattr(loaded, registry, None)
    return None if models is None else models.get(name)


def _import_failed(module: str, exc: Exception) -> DefinitionError:
    return DefinitionError(
        f"schemas module {module} failed to import ({type(exc).__name__}: "
        f"{first_line(exc)}); fix it - the validation gate refuses to run without its rules"
    )


def _domain_parts(model: Any, known: set[str]) -> tuple[list[Rule], list[tuple[str | None, Any]]]:
    """Rules and leftover Pandera checks of a hand-written DataFrameModel."""
    if model is None:
        return [], []
    schema = model.to_schema()
    rules: list[Rule] = []
    native: list[tuple[str | None, Any]] = []
    for name, column in schema.columns.items():
        if not column.nullable and f"{name}::not_null" not in known:
            rules.append(not_null(name, origin="domain"))
        for check in column.checks:
            rule = from_pandera_check(check, name)
            if rule is None:
                native.append((name, check))
            elif rule.key not in known:
                rules.append(rule)
    native += [(None, check) for check in schema.checks]
    return rules, native


def source_facts(source: Source, module: str = "schemas.sources") -> dict[str, SourceFacts]:
    """Ranges and value sets the source's domain model declares, per column."""
    model = _domain_model(module, "SOURCE_DOMAINS", source.name)
    if model is None:
        return {}
    facts = {}
    for name, column in model.to_schema().columns.items():
        low, high = bounds_of(column.checks)
        facts[name] = SourceFacts(low, high, allowed_values_of(column.checks))
    return facts


def _merge(name: str, structure: Structure, model: Any, extra: list[Rule]) -> Contract:
    known = {rule.key for rule in structure.rules}
    domain, native = _domain_parts(model, known)
    domain += [rule for rule in extra if rule.key not in known]
    return Contract(
        name=name,
        columns=structure.columns,
        rules=structure.rules + tuple(domain),
        native_checks=tuple(native),
        strict=structure.strict,
    )


def view_contract(
    view: FeatureView,
    *,
    feature_ts: datetime,
    snapshot_date: date,
    run_id: str | None,
    now: datetime,
    schemas_package: str = "schemas",
) -> Contract:
    """The full contract of one snapshot of ``view`` (structural + ``schemas.views``)."""
    structure = view_structure(
        view,
        feature_ts=feature_ts,
        snapshot_date=snapshot_date,
        run_id=run_id,
        now=now,
        source_facts=source_facts(view.source, f"{schemas_package}.sources"),
    )
    model = _domain_model(f"{schemas_package}.views", "VIEW_DOMAINS", view.name)
    extra = _domain_model(f"{schemas_package}.views", "VIEW_RULES", view.name) or []
    return _merge(view.name, structure, model, list(extra))


def source_contract(source: Source, *, schemas_package: str = "schemas") -> Contract:
    """The full contract of a raw source's rows (structural + ``schemas.sources``)."""
    model = _domain_model(f"{schemas_package}.sources", "SOURCE_DOMAINS", source.name)
    return _merge(source.name, source_structure(source), model, [])
