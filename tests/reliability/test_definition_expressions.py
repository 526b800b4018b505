"""Definition SQL that reaches outside the row is refused before any data is read.

A derived column ``(SELECT max(value) FROM text.`<file>`)`` used to commit the file's
contents into the offline table, and ``java_method``/``reflect`` or a ``${env:...}``
reference read the environment. Each is now refused with one line naming view and field.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from feature_jobs.definitions import DerivedColumn, Feature, FeatureView, Source, load_registry
from feature_jobs.definitions.types import SPARK_TYPES
from feature_jobs.errors import DefinitionError
from feature_jobs.expression_guard import check_planned_expressions
from feature_jobs.materialize import materialize_range
from feature_jobs.offline import view_table
from feature_jobs.settings import Settings
from feature_jobs.transform import check_expressions
from tests.feature_jobs.tiny_domain import event, tx_source, user_view, utc, write_events

DAY = date(2024, 1, 1)
NOT_ALLOWED = "is not allowed in a definition expression"
FIX = "compute it from the source's own columns"
SUBQUERY_FIX = f"{NOT_ALLOWED}; {FIX}, and bring other data into the source upstream"
REFLECTION = (
    f"{NOT_ALLOWED} (it calls Java methods by reflection and can read the environment, "
    f"JVM properties and files); {FIX}"
)


@pytest.fixture
def secret_file(tmp_path: Path) -> tuple[Path, str]:
    """A file outside the data root holding a value no table may ever contain."""
    secret = f"SECRET-{uuid.uuid4().hex}"
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text(secret + "\n")
    return path, secret


def _empty_events(spark: SparkSession, source: Source) -> DataFrame:
    schema = ", ".join(f"`{c}` {SPARK_TYPES[t]}" for c, t in source.schema.items())
    return spark.createDataFrame([], schema)


def _files_holding(root: Path, secret: str) -> list[Path]:
    needle = secret.encode()
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_a_subquery_over_a_file_is_refused_and_the_file_never_stored(
    spark: SparkSession, settings: Settings, secret_file: tuple[Path, str]
) -> None:
    path, secret = secret_file
    write_events(settings.data_root, [event("t1", 1, 10.0, utc(2024, 1, 1, 12))])
    view = user_view(
        name="leaky",
        derived_columns=[
            DerivedColumn(
                name="leak", expression=f"(SELECT max(value) FROM text.`{path}`)", dtype="string"
            )
        ],
        features=[Feature(name="leak_7d", function="last", column="leak", window="7d")],
    )

    with pytest.raises(DefinitionError) as caught:
        materialize_range(spark, settings, view, [DAY], run_id="leak")

    assert str(caught.value) == (
        f"feature view leaky: derived column leak: a scalar subquery "
        f"(reading text.`{path}`) {SUBQUERY_FIX}"
    )
    assert _files_holding(settings.data_root, secret) == []
    assert not Path(view_table(settings, "leaky")).exists()


def _refusals(secret: Path) -> list[tuple[str, dict[str, Any], str]]:
    """(case, view overrides, the whole message) for every kind of refused expression."""
    text = f"text.`{secret}`"
    home = "'java.lang.System', 'getenv', 'HOME'"

    def derived(expression: str) -> dict[str, Any]:
        return {"derived_columns": [DerivedColumn(name="d", expression=expression, dtype="string")]}

    def feature(**fields: object) -> dict[str, Any]:
        return {"features": [Feature(name="f", window="7d", **fields)]}  # type: ignore[arg-type]

    return [
        (
            "scalar subquery over a file, view filter",
            {"filter": f"country = (SELECT max(value) FROM {text})"},
            f"feature view probe: filter: a scalar subquery (reading {text}) {SUBQUERY_FIX}",
        ),
        (
            "EXISTS over a table function, feature filter",
            feature(function="count", filter="EXISTS (SELECT 1 FROM range(1))"),
            f"feature view probe: feature f filter: an EXISTS subquery (reading range(...)) "
            f"{SUBQUERY_FIX}",
        ),
        (
            "IN (SELECT ...) over a parquet file, feature filter",
            feature(function="count", filter="country IN (SELECT c FROM parquet.`/tmp/x`)"),
            "feature view probe: feature f filter: an IN (SELECT ...) subquery "
            f"(reading parquet.`/tmp/x`) {SUBQUERY_FIX}",
        ),
        (
            "table reference, derived column",
            derived("(SELECT max(country) FROM spark_catalog.default.users)"),
            "feature view probe: derived column d: a scalar subquery "
            f"(reading spark_catalog.default.users) {SUBQUERY_FIX}",
        ),
        (
            "java_method, derived column",
            derived(f"java_method({home})"),
            f"feature view probe: derived column d: function java_method {REFLECTION}",
        ),
        (
            "reflect, feature expression",
            feature(function="last", expression=f"reflect({home})", dtype="string"),
            f"feature view probe: feature f expression: function reflect {REFLECTION}",
        ),
        (
            "try_reflect, source filter",
            {"source": tx_source(filter=f"try_reflect({home}) IS NOT NULL")},
            f"feature view probe: source filter: function try_reflect {REFLECTION}",
        ),
        (
            "qualified built-in name",
            derived(f"SYSTEM.BUILTIN.JAVA_METHOD({home})"),
            f"feature view probe: derived column d: function SYSTEM.BUILTIN.JAVA_METHOD "
            f"{REFLECTION}",
        ),
        (
            "reflect inside a lambda",
            derived("transform(array(country), c -> reflect('java.lang.System', 'getenv', c))[0]"),
            f"feature view probe: derived column d: function reflect {REFLECTION}",
        ),
        (
            "function picked by IDENTIFIER",
            derived(f"IDENTIFIER('reflect')({home})"),
            "feature view probe: derived column d: IDENTIFIER(...) is not allowed in a "
            "definition expression (it picks a column or function at run time); "
            "write the name itself",
        ),
        (
            "catalog function",
            derived("spark_catalog.default.peek(country)"),
            "feature view probe: derived column d: function spark_catalog.default.peek is not "
            "a Spark built-in function; a definition expression may call only built-in "
            "functions (catalog and temporary functions run code that is not part of the "
            "definition)",
        ),
        (
            "descriptor file read by to_protobuf",
            derived("to_protobuf(struct(country), 'M', '/etc/passwd')"),
            f"feature view probe: derived column d: function to_protobuf {NOT_ALLOWED} "
            f"(it loads classes by name and reads descriptor files); {FIX}",
        ),
        (
            "environment variable substitution",
            derived("'${env:HOME}'"),
            "feature view probe: derived column d: a ${...} variable reference is not allowed "
            "in a definition expression (Spark replaces it with a configuration value, an "
            "environment variable or a JVM property); write the value itself",
        ),
        (
            "JVM property substitution",
            feature(function="count", filter="country = '${system:user.home}'"),
            "feature view probe: feature f filter: a ${...} variable reference is not allowed "
            "in a definition expression (Spark replaces it with a configuration value, an "
            "environment variable or a JVM property); write the value itself",
        ),
    ]


_CASES = [case for case, _, _ in _refusals(Path("/x"))]


@pytest.mark.parametrize("case", _CASES)
def test_an_expression_reaching_outside_the_row_is_refused_in_one_line(
    spark: SparkSession, secret_file: tuple[Path, str], case: str
) -> None:
    overrides, expected = next((o, m) for c, o, m in _refusals(secret_file[0]) if c == case)
    view = user_view(name="probe", **overrides)

    with pytest.raises(DefinitionError) as caught:
        check_expressions(view, _empty_events(spark, view.source))

    assert str(caught.value) == expected


def test_the_analyzed_plan_is_checked_again(spark: SparkSession) -> None:
    """The second line, for a construct the parse-tree walk would not know."""
    from pyspark.sql import functions as F

    view = user_view(name="probe")
    reflecting = spark.range(1).select(F.expr("java_method('java.lang.System', 'getenv', 'HOME')"))
    subquery = spark.range(1).where(F.expr("EXISTS (SELECT 1)"))

    with pytest.raises(DefinitionError) as reflection:
        check_planned_expressions(view, reflecting)
    with pytest.raises(DefinitionError) as planned_subquery:
        check_planned_expressions(view, subquery)
    check_planned_expressions(view, spark.range(1).where(F.expr("id < 3")))

    assert str(reflection.value) == (
        "feature view probe: an expression plans CallMethodViaReflection (it calls Java "
        "methods by reflection and can read the environment, JVM properties and files), "
        f"which {NOT_ALLOWED}; {FIX}"
    )
    assert str(planned_subquery.value) == (
        f"feature view probe: an expression plans a subquery, which {NOT_ALLOWED}; {FIX}"
    )


def _allowed_view() -> FeatureView:
    """Ordinary row-level SQL, including built-ins that only look at the row or session."""
    return user_view(
        name="allowed",
        source=tx_source(filter="amount IS NOT NULL AND country <> 'US$'"),
        filter="country IN ('FR', 'DE') AND hour(event_ts) < 23",
        derived_columns=[
            DerivedColumn(name="is_night", expression="hour(event_ts) < 6", dtype="boolean"),
            DerivedColumn(
                name="origin",
                expression="concat_ws('/', country, input_file_name(), current_user())",
                dtype="string",
            ),
        ],
        features=[
            Feature(name="night_7d", function="count", window="7d", filter="is_night"),
            Feature(
                name="cents_7d",
                function="sum",
                window="7d",
                expression="CAST(round(amount * 100) AS BIGINT)",
                dtype="long",
            ),
            Feature(
                name="fr_7d",
                function="count",
                window="7d",
                filter="exists(array(country), c -> c = 'FR') "
                "AND xpath_boolean('<a>1</a>', 'a = 1')",
            ),
        ],
    )


@pytest.mark.parametrize(
    "view_of",
    [
        pytest.param(lambda: _allowed_view(), id="allowed-built-ins"),
        *[
            pytest.param(lambda name=name: load_registry("features").views[name], id=name)
            for name in sorted(load_registry("features").views)
        ],
    ],
)
def test_ordinary_row_level_expressions_still_pass(
    spark: SparkSession, view_of: Callable[[], FeatureView]
) -> None:
    view = view_of()
    check_expressions(view, _empty_events(spark, view.source))
