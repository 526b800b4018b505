"""What a definition's Spark SQL may contain: row-level expressions over its own rows.

Definitions are trusted Python, but their SQL strings are easy to miss in review, and
Spark SQL can reach far beyond a row: a scalar subquery over ``text.`<path>``` commits a
file's contents into the offline table, ``reflect`` reads the environment, and Spark
substitutes ``${env:NAME}`` in the text before it even parses it. The rule, checked on
Spark's own parse tree of every expression (not on the text) before any data is read:

* no ``${...}`` reference that Spark's variable substitution would replace;
* no subquery of any kind (scalar, ``EXISTS``, ``IN (SELECT ...)``, ``LATERAL``), hence
  no table, file or table-valued-function reference;
* only Spark built-in functions, called directly: no catalog or temporary function, no
  ``IDENTIFIER(...)`` (a name chosen at analysis time), and none of the built-ins that
  reach outside the row (:data:`FORBIDDEN_FUNCTIONS`: reflection and the Avro/Protobuf
  functions, which load classes by name and read schema files).

The analyzed plan of the probe is checked again afterwards, so a construct the parse-tree
walk does not know cannot bring a subquery or a forbidden function into a snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from feature_jobs.definitions import FeatureView
from feature_jobs.errors import DefinitionError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_EXPRESSIONS = "org.apache.spark.sql.catalyst.expressions."

#: Built-in functions a definition may not call, by implementing class (so every alias
#: of one, ``reflect`` / ``java_method``, is caught), with the reason given to the user.
FORBIDDEN_FUNCTIONS: dict[str, str] = {
    _EXPRESSIONS + "CallMethodViaReflection": (
        "it calls Java methods by reflection and can read the environment, JVM properties and files"
    ),
    _EXPRESSIONS + "TryReflect": (
        "it calls Java methods by reflection and can read the environment, JVM properties and files"
    ),
    _EXPRESSIONS + "FromProtobuf": "it loads classes by name and reads descriptor files",
    _EXPRESSIONS + "ToProtobuf": "it loads classes by name and reads descriptor files",
    _EXPRESSIONS + "FromAvro": "it loads classes by name and reads schema options",
    _EXPRESSIONS + "ToAvro": "it loads classes by name and reads schema options",
    _EXPRESSIONS + "SchemaOfAvro": "it loads classes by name and reads schema options",
}

_SUBQUERY_KINDS = {
    _EXPRESSIONS + "ScalarSubquery": "a scalar subquery",
    _EXPRESSIONS + "Exists": "an EXISTS subquery",
    _EXPRESSIONS + "ListQuery": "an IN (SELECT ...) subquery",
    _EXPRESSIONS + "LateralSubquery": "a LATERAL subquery",
}
_PLAN_EXPRESSION = _EXPRESSIONS + "PlanExpression"
_ANALYSIS = "org.apache.spark.sql.catalyst.analysis."
_BUILTIN_QUALIFIERS = ((), ("builtin",), ("system", "builtin"))
_FIX = "compute it from the source's own columns"


def definition_expressions(view: FeatureView) -> list[tuple[str, str]]:
    """Every Spark SQL string of ``view`` as ``(field, text)``, named as errors name them."""
    fields: list[tuple[str, str | None]] = [("source filter", view.source.filter)]
    fields += [(f"derived column {d.name}", d.expression) for d in view.derived_columns]
    fields.append(("filter", view.filter))
    for feature in view.features:
        fields.append((f"feature {feature.name} filter", feature.filter))
        fields.append((f"feature {feature.name} expression", feature.expression))
    return [(field, text) for field, text in fields if text]


def check_definition_expressions(spark: SparkSession, view: FeatureView) -> None:
    """Refuse the first expression of ``view`` that breaks this module's rule.

    Raises:
        DefinitionError: one line naming the view, the field and what is not allowed.
            Nothing is analysed or read; text that does not parse is left to the
            planner, which reports it with Spark's reason.
    """
    guard = _Guard(spark)
    for field, text in definition_expressions(view):
        problem = guard.problem(text)
        if problem:
            raise DefinitionError(f"feature view {view.name}: {field}: {problem}")


def check_planned_expressions(view: FeatureView, probe: DataFrame) -> None:
    """Second line: refuse a subquery or forbidden function in the analyzed ``probe``."""
    jvm: Any = probe.sparkSession._jvm
    plan = probe._jdf.queryExecution().analyzed()
    found = "a subquery" if plan.containsPattern(_plan_expression_pattern(jvm)) else None
    forbidden = sorted(_plan_classes(plan) & FORBIDDEN_FUNCTIONS.keys())
    if forbidden:
        name = forbidden[0]
        found = f"{name.rsplit('.', 1)[-1]} ({FORBIDDEN_FUNCTIONS[name]})"
    if found:
        raise DefinitionError(
            f"feature view {view.name}: an expression plans {found}, which is not allowed "
            f"in a definition expression; {_FIX}"
        )


class _Guard:
    """The parse-tree checks, with the session's parser and Spark's built-in registry."""

    def __init__(self, spark: SparkSession) -> None:
        jvm: Any = spark._jvm
        self._jvm = jvm
        self._parser = spark._jsparkSession.sessionState().sqlParser()  # type: ignore[attr-defined]
        self._builtin = jvm.org.apache.spark.sql.catalyst.analysis.FunctionRegistry.builtin()
        self._plan_expression = _plan_expression_pattern(jvm)

    def problem(self, text: str) -> str | None:
        """Why ``text`` may not be a definition expression, or None when it may."""
        substitution = self._jvm.org.apache.spark.sql.internal.VariableSubstitution()
        if substitution.substitute(text) != text:
            return (
                "a ${...} variable reference is not allowed in a definition expression "
                "(Spark replaces it with a configuration value, an environment variable "
                "or a JVM property); write the value itself"
            )
        try:
            tree = self._parser.parseExpression(text)
        except Exception:  # the planner reports invalid SQL, with its reason
            return None
        # Walking each node's class ancestry costs JVM calls: only when a subquery is there.
        subquery = bool(tree.containsPattern(self._plan_expression))
        for node in _expression_nodes(tree):
            problem = self._node_problem(node, subquery)
            if problem:
                return problem
        return None

    def _node_problem(self, node: Any, subquery: bool) -> str | None:
        name = node.getClass().getName()
        if name == _ANALYSIS + "ExpressionWithUnresolvedIdentifier":
            return (
                "IDENTIFIER(...) is not allowed in a definition expression (it picks a "
                "column or function at run time); write the name itself"
            )
        if name == _ANALYSIS + "UnresolvedFunction":
            return self._function_problem(node)
        if subquery and _PLAN_EXPRESSION in _class_chain(node):
            kind = _SUBQUERY_KINDS.get(name, "a subquery")
            reads = _relations(node.plan())
            reading = f" (reading {reads})" if reads else ""
            return (
                f"{kind}{reading} is not allowed in a definition expression; {_FIX}, "
                "and bring other data into the source upstream"
            )
        return None

    def _function_problem(self, node: Any) -> str | None:
        parts = [str(p) for p in _seq(node.nameParts())]
        shown = _oneline(".".join(parts))
        qualifier = tuple(p.lower() for p in parts[:-1])
        info = None
        if qualifier in _BUILTIN_QUALIFIERS:
            identifier = self._jvm.org.apache.spark.sql.catalyst.FunctionIdentifier(parts[-1])
            found = self._builtin.lookupFunction(identifier)
            info = found.get() if found.isDefined() else None
        if info is None:
            return (
                f"function {shown} is not a Spark built-in function; a definition expression "
                "may call only built-in functions (catalog and temporary functions run code "
                "that is not part of the definition)"
            )
        reason = FORBIDDEN_FUNCTIONS.get(str(info.getClassName()))
        if reason:
            return f"function {shown} is not allowed in a definition expression ({reason}); {_FIX}"
        return None


def _expression_nodes(tree: Any) -> Iterator[Any]:
    """Every node of an expression tree, parents first (lambda bodies included)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        pending.extend(reversed(_seq(node.children())))


def _plan_classes(plan: Any) -> set[str]:
    """The class of every operator and expression of a logical plan.

    One JVM call for the plan's JSON instead of several per node: a walk node by node
    pays a py4j round trip per call, which adds up on a real view's plan.
    """
    try:
        tree = json.loads(plan.toJSON())
    except Exception:  # a node Spark cannot render: walk it instead
        return _walked_classes(plan)
    classes: set[str] = set()
    pending: list[Any] = [tree]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if isinstance(item.get("class"), str):
                classes.add(item["class"])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return classes


def _walked_classes(plan: Any) -> set[str]:
    classes: set[str] = set()
    operators = [plan]
    while operators:
        operator = operators.pop()
        classes.add(str(operator.getClass().getName()))
        for expression in _seq(operator.expressions()):
            classes.update(str(n.getClass().getName()) for n in _expression_nodes(expression))
        operators.extend(_seq(operator.children()))
    return classes


def _relations(plan: Any) -> str:
    """The tables, files and table functions a subquery's plan reads, for the message."""
    names = []
    for leaf in _seq(plan.collectLeaves()):
        kind = leaf.getClass().getName()
        if kind == _ANALYSIS + "UnresolvedRelation":
            names.append(str(leaf.tableName()))
        elif kind == _ANALYSIS + "UnresolvedTableValuedFunction":
            names.append(".".join(str(p) for p in _seq(leaf.name())) + "(...)")
    return ", ".join(_oneline(n)[:120] for n in names[:3])


def _plan_expression_pattern(jvm: Any) -> Any:
    """The tree pattern every subquery expression carries (and its ancestors inherit)."""
    return jvm.org.apache.spark.sql.catalyst.trees.TreePattern.PLAN_EXPRESSION()


def _class_chain(node: Any) -> set[str]:
    names = set()
    cls = node.getClass()
    while cls is not None:
        names.add(str(cls.getName()))
        cls = cls.getSuperclass()
    return names


def _seq(scala_seq: Any) -> list[Any]:
    iterator = scala_seq.iterator()
    items = []
    while iterator.hasNext():
        items.append(iterator.next())
    return items


def _oneline(text: str) -> str:
    return " ".join(text.split())
