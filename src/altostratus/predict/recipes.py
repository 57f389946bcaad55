"""Amazon ML recipes: which features a linear model sees, written as groups, assignments and outputs.

    {"groups": {"NUMS": "group(age, hours-per-week)", "CATS": "group_remove(ALL_CATEGORICAL, id)"},
     "assignments": {"age_bins": "quantile_bin(age, 10)"},
     "outputs": ["CATS", "age_bins", "normalize(NUMS)", "cartesian(age_bins, sex)",
                 "ngram(lowercase(no_punct(title)), 2)", "osb(body, 4)"]}

Functions: lowercase, no_punct (text or categorical -> the same), ngram(text, n), osb(text, window)
(text -> tokens), quantile_bin(numeric, n) (-> categorical), normalize(numeric), cartesian(a, b)
(categorical or binary -> categorical). A function given a group applies to each member. Built-in
groups: ALL_INPUTS, ALL_NUMERIC, ALL_CATEGORICAL, ALL_TEXT, ALL_BINARY. Each output becomes features
by its type: numeric -> its standardized value (so `x` and `normalize(x)` give the same feature: SGD
needs scaled inputs), binary -> 0/1, categorical -> one-hot, text -> its words, tokens -> one per token.

The default recipe, like the one Amazon ML suggests: binary and categorical attributes as they are,
each numeric attribute both as 10 quantile bins and as its normalized value, and text as lower-cased
words and word pairs without punctuation.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from altostratus.core import json_input
from altostratus.predict.errors import InvalidInput
from altostratus.predict.schema import AttributeType, Schema
from altostratus.predict.table import Table
from altostratus.predict.transformers import (
    CartesianProduct,
    Lowercase,
    Matrix,
    NgramTokenizer,
    NoPunct,
    OsbTokenizer,
    QuantileBinner,
    SparseParts,
    Standardizer,
    VocabularyEncoder,
)

RECIPE_KEYS = frozenset({"groups", "assignments", "outputs"})
MAX_TOKENS_PER_OUTPUT = 200_000
DEFAULT_BINS = 10
DEFAULT_NGRAM = 2


class Kind(enum.StrEnum):
    """What a recipe variable holds: an attribute type, or TOKENS (the output of ngram and osb)."""

    NUMERIC = "NUMERIC"
    CATEGORICAL = "CATEGORICAL"
    TEXT = "TEXT"
    BINARY = "BINARY"
    TOKENS = "TOKENS"


@dataclasses.dataclass(frozen=True)
class _Function:
    accepts: tuple[Kind, ...]
    arity: int
    takes_number: bool
    returns: Kind | None  # None: the input's kind


FUNCTIONS = {
    "lowercase": _Function((Kind.TEXT, Kind.CATEGORICAL), 1, False, None),
    "no_punct": _Function((Kind.TEXT, Kind.CATEGORICAL), 1, False, None),
    "ngram": _Function((Kind.TEXT,), 1, True, Kind.TOKENS),
    "osb": _Function((Kind.TEXT,), 1, True, Kind.TOKENS),
    "quantile_bin": _Function((Kind.NUMERIC,), 1, True, Kind.CATEGORICAL),
    "normalize": _Function((Kind.NUMERIC,), 1, False, Kind.NUMERIC),
    "cartesian": _Function((Kind.CATEGORICAL, Kind.BINARY), 2, False, Kind.CATEGORICAL),
}
GROUP_FUNCTIONS = ("group", "group_remove")
BUILT_IN_GROUPS = {
    "ALL_NUMERIC": (AttributeType.NUMERIC,),
    "ALL_CATEGORICAL": (AttributeType.CATEGORICAL,),
    "ALL_TEXT": (AttributeType.TEXT,),
    "ALL_BINARY": (AttributeType.BINARY,),
    "ALL_INPUTS": tuple(AttributeType),
}


@dataclasses.dataclass(frozen=True)
class Call:
    """A parsed expression: a name (args None), or a function applied to arguments."""

    name: str
    args: tuple[Call | int, ...] | None = None


@dataclasses.dataclass(frozen=True)
class Node:
    """One recipe variable after groups are expanded: an attribute, or a function of other nodes."""

    key: str
    kind: Kind
    function: str | None = None
    inputs: tuple[Node, ...] = ()
    number: int | None = None


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A parsed recipe document."""

    groups: Mapping[str, Call]
    assignments: Mapping[str, Call]
    outputs: tuple[Call, ...]
    text: str

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        """Parse an Amazon ML recipe JSON string; InvalidInput naming what is wrong."""
        try:
            document = json_input.loads(text)
        except ValueError as error:
            raise InvalidInput(f"Recipe is not valid JSON: {error}") from None
        if not isinstance(document, dict) or not set(document) <= RECIPE_KEYS:
            raise InvalidInput(f"Recipe must be a JSON object with only the sections {sorted(RECIPE_KEYS)}")
        groups = _section(document, "groups")
        assignments = _section(document, "assignments")
        outputs = document.get("outputs")
        if not isinstance(outputs, list) or not outputs or not all(isinstance(o, str) for o in outputs):
            raise InvalidInput(f"Recipe outputs={outputs!r}; expected a non-empty list of expressions")
        parsed = cls(
            groups={name: _parse(f"groups.{name}", text) for name, text in groups.items()},
            assignments={name: _parse(f"assignments.{name}", text) for name, text in assignments.items()},
            outputs=tuple(_parse(f"outputs[{i}]", output) for i, output in enumerate(outputs)),
            text=text,
        )
        for where, call in [*parsed.groups.items(), *parsed.assignments.items(), *enumerate(parsed.outputs)]:
            _check_functions(call, f"{where}")
        return parsed

    def compile(self, schema: Schema) -> list[Node]:
        """The output variables for data of this schema, groups expanded and types checked, without repeats."""
        resolver = _Resolver(self, schema)
        nodes: dict[str, Node] = {}
        for position, output in enumerate(self.outputs):
            for node in resolver.resolve(output, f"outputs[{position}]"):
                if node.kind is Kind.TEXT:  # a text output means its words
                    node = Node(f"ngram({node.key}, 1)", Kind.TOKENS, "ngram", (node,), 1)
                nodes.setdefault(node.key, node)
        return list(nodes.values())


def default_recipe(schema: Schema) -> Recipe:
    """The recipe used when none is given (see the module docstring)."""
    outputs = [
        "ALL_BINARY",
        "ALL_CATEGORICAL",
        f"quantile_bin(ALL_NUMERIC, {DEFAULT_BINS})",
        "normalize(ALL_NUMERIC)",
        f"ngram(lowercase(no_punct(ALL_TEXT)), {DEFAULT_NGRAM})",
    ]
    return Recipe.from_json(json.dumps({"groups": {}, "assignments": {}, "outputs": outputs}))


@dataclasses.dataclass(frozen=True)
class Step:
    """One function applied at once to several nodes of the same depth (each node one input column)."""

    function: str
    number: int | None
    nodes: tuple[Node, ...]


class RecipeFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """A recipe as one transformer: a Table in, the sparse feature matrix of every output out.

    `recipe` is the recipe's JSON text; None means the default recipe for the data's schema. Nodes
    with the same function at the same depth run as one multi-column transformer, and outputs of one
    kind share one encoder, so a single record costs a handful of numpy calls.
    """

    def __init__(self, *, recipe: str | None = None) -> None:
        self.recipe = recipe

    def fit(self, X: Table, y: object = None) -> RecipeFeatures:
        """Compile the recipe for the table's schema and fit every function and encoder on the table."""
        recipe = Recipe.from_json(self.recipe) if self.recipe is not None else default_recipe(X.schema)
        self.recipe_text_ = recipe.text
        self.outputs_ = recipe.compile(X.schema)
        self.attributes_ = sorted({leaf for node in self.outputs_ for leaf in _leaves(node)})
        self.n_features_in_ = len(self.attributes_)
        self.plan_ = _plan(self.outputs_)
        self.steps_ = [_function(step) for step in self.plan_]
        values = self._run(X, fitting=True)
        self.encoded_ = {
            kind: [node.key for node in self.outputs_ if node.kind is kind]
            for kind in Kind
            if any(node.kind is kind for node in self.outputs_)
        }
        self.encoders_ = {kind: _encoder(kind).fit(_columns(values, keys)) for kind, keys in self.encoded_.items()}
        self.n_features_out_ = sum(encoder.n_output_features_ for encoder in self.encoders_.values())
        return self

    def transform(self, X: Table) -> sp.csr_matrix:
        """The feature matrix: one row per table row, one column per feature."""
        return self.encode(X).to_csr(X.rows)

    def encode(self, X: Table) -> SparseParts:
        """The feature matrix's non-zero entries (what a linear model needs, without building a matrix)."""
        if not hasattr(self, "encoders_"):
            raise NotFittedError("This RecipeFeatures instance is not fitted yet. Call 'fit' first.")
        missing = [name for name in self.attributes_ if name not in X.columns]
        if missing:
            raise ValueError(f"X lacks the attributes {missing} that RecipeFeatures was fitted with.")
        values = self._run(X, fitting=False)
        parts: list[SparseParts] = []
        offset = 0
        for kind, encoder in self.encoders_.items():
            part = encoder.encode(_columns(values, self.encoded_[kind]))
            parts.append(dataclasses.replace(part, columns=part.columns + offset))
            offset += part.width
        return SparseParts(
            np.concatenate([part.rows for part in parts]),
            np.concatenate([part.columns for part in parts]),
            np.concatenate([part.values for part in parts]),
            offset,
        )

    def _run(self, table: Table, *, fitting: bool) -> dict[str, Matrix]:
        """Every node's values (one column each) for the table, fitting each step first when asked."""
        values: dict[str, Matrix] = {name: table.columns[name].reshape(-1, 1) for name in self.attributes_}
        for step, transformer in zip(self.plan_, self.steps_, strict=True):
            if step.function == "cartesian":
                node = step.nodes[0]
                inputs = np.hstack([_as_category(values[child.key], child.kind) for child in node.inputs])
            else:
                inputs = _columns(values, [node.inputs[0].key for node in step.nodes])
            if transformer is None:  # normalize: the numeric encoder standardizes
                output = inputs
            else:
                output = (transformer.fit(inputs) if fitting else transformer).transform(inputs)
            for index, node in enumerate(step.nodes):
                values[node.key] = output[:, index : index + 1]
        return values


def _plan(outputs: Sequence[Node]) -> list[Step]:
    """The function nodes in an order that computes inputs first, batched by (depth, function, number)."""
    depth: dict[str, int] = {}
    nodes: dict[str, Node] = {}

    def visit(node: Node) -> int:
        if node.key not in depth:
            depth[node.key] = 1 + max((visit(child) for child in node.inputs), default=-1)
            nodes[node.key] = node
        return depth[node.key]

    for node in outputs:
        visit(node)
    batches: dict[tuple[int, str, int | None, str], list[Node]] = {}
    for key, node in nodes.items():
        if node.function is not None:
            # cartesian nodes each take two columns, so each runs alone
            alone = key if node.function == "cartesian" else ""
            batches.setdefault((depth[key], node.function, node.number, alone), []).append(node)
    return [
        Step(function, number, tuple(batch)) for (_, function, number, _), batch in sorted(batches.items(), key=_order)
    ]


def _order(item: tuple[tuple[int, str, int | None, str], list[Node]]) -> tuple[int, str, int, str]:
    (level, function, number, alone), _ = item
    return level, function, number or 0, alone


def _columns(values: Mapping[str, Matrix], keys: Sequence[str]) -> Matrix:
    return values[keys[0]] if len(keys) == 1 else np.hstack([values[key] for key in keys])


class _Resolver:
    """Expands names (attributes, groups, assignments) and checks each function's input types."""

    def __init__(self, recipe: Recipe, schema: Schema) -> None:
        self._recipe = recipe
        self._schema = schema
        self._inputs = {attribute.name: attribute.type for attribute in schema.inputs}
        self._active: list[str] = []

    def resolve(self, call: Call | int, where: str) -> list[Node]:
        """The nodes an expression stands for (a group stands for several)."""
        if isinstance(call, int):
            raise InvalidInput(f"Recipe {where}: the number {call} is not a variable")
        if call.args is None:
            return self._name(call.name, where)
        if call.name in GROUP_FUNCTIONS:
            return [node for name in self._group(call, where) for node in self._name(name, where)]
        return self._apply(call, FUNCTIONS[call.name], where)  # from_json checked the names

    def _apply(self, call: Call, spec: _Function, where: str) -> list[Node]:
        assert call.args is not None
        expected = spec.arity + (1 if spec.takes_number else 0)
        if len(call.args) != expected:
            raise InvalidInput(f"Recipe {where}: {call.name} takes {expected} arguments; got {len(call.args)}")
        number = call.args[-1] if spec.takes_number else None
        if spec.takes_number and not isinstance(number, int):
            raise InvalidInput(f"Recipe {where}: the last argument of {call.name} must be a whole number")
        operands = [self.resolve(arg, where) for arg in call.args[: spec.arity]]
        if spec.arity == 2 and any(len(group) != 1 for group in operands):
            raise InvalidInput(f"Recipe {where}: {call.name} takes two single variables, not groups")
        nodes = []
        for inputs in zip(*operands, strict=False) if spec.arity == 1 else [tuple(g[0] for g in operands)]:
            for node in inputs:
                if node.kind not in spec.accepts:
                    raise InvalidInput(
                        f"Recipe {where}: {call.name} does not take {node.key!r} of type {node.kind}; "
                        f"it takes {[kind.value for kind in spec.accepts]}"
                    )
            arguments = [node.key for node in inputs] + ([str(number)] if number is not None else [])
            kind = spec.returns or inputs[0].kind
            key = f"{call.name}({', '.join(arguments)})"
            nodes.append(Node(key, kind, call.name, tuple(inputs), number if isinstance(number, int) else None))
        return nodes

    def _name(self, name: str, where: str) -> list[Node]:
        if name in self._recipe.assignments:
            return self._expand(name, self._recipe.assignments[name], where)
        if name in self._recipe.groups or name in BUILT_IN_GROUPS:
            return [node for member in self._group(Call(name), where) for node in self._name(member, where)]
        if name in self._inputs:
            kind = Kind(self._inputs[name].value)
            return [Node(name, kind)]
        raise InvalidInput(
            f"Recipe {where}: {name!r} is not an input attribute, group or assignment; "
            f"expected one of {sorted([*self._inputs, *self._recipe.groups, *self._recipe.assignments])} "
            f"or a built-in group {sorted(BUILT_IN_GROUPS)}"
        )

    def _expand(self, name: str, call: Call, where: str) -> list[Node]:
        if name in self._active:
            raise InvalidInput(f"Recipe {where}: {name!r} is defined in terms of itself ({' -> '.join(self._active)})")
        self._active.append(name)
        try:
            return self.resolve(call, f"assignments.{name}")
        finally:
            self._active.pop()

    def _group(self, call: Call, where: str) -> list[str]:
        """The attribute names in a group: a built-in one, a named one, or group(...)/group_remove(...)."""
        if call.args is None:
            if call.name in BUILT_IN_GROUPS:
                types = BUILT_IN_GROUPS[call.name]
                return [name for name, kind in self._inputs.items() if kind in types]
            if call.name in self._active:
                raise InvalidInput(f"Recipe {where}: group {call.name!r} is defined in terms of itself")
            self._active.append(call.name)
            try:
                return self._group(self._recipe.groups[call.name], f"groups.{call.name}")
            finally:
                self._active.pop()
        members = [_plain_name(arg, where) for arg in call.args]
        if call.name == "group_remove":
            if not members:
                raise InvalidInput(f"Recipe {where}: group_remove takes a group and the names to remove")
            base = self._group(Call(members[0]), where) if members[0] in self._groups() else [members[0]]
            return [name for name in base if name not in members[1:]]
        return [
            name
            for member in members
            for name in (self._group(Call(member), where) if member in self._groups() else [member])
        ]

    def _groups(self) -> set[str]:
        return {*self._recipe.groups, *BUILT_IN_GROUPS}


def _leaves(node: Node) -> Iterator[str]:
    if node.function is None:
        yield node.key
    for child in node.inputs:
        yield from _leaves(child)


def _function(step: Step) -> Any:
    """A fresh transformer for a step; None for normalize, which the numeric encoder does."""
    number = step.number or 0
    if step.function == "lowercase":
        return Lowercase()
    if step.function == "no_punct":
        return NoPunct()
    if step.function == "ngram":
        return NgramTokenizer(n=number)
    if step.function == "osb":
        return OsbTokenizer(window=number)
    if step.function == "quantile_bin":
        return QuantileBinner(n_bins=number)
    if step.function == "cartesian":
        return CartesianProduct()
    return None


def _encoder(kind: Kind) -> Standardizer | VocabularyEncoder:
    if kind is Kind.NUMERIC:
        return Standardizer()
    if kind is Kind.BINARY:
        return Standardizer(with_mean=False, with_std=False)
    if kind is Kind.CATEGORICAL:
        return VocabularyEncoder()
    return VocabularyEncoder(max_size=MAX_TOKENS_PER_OUTPUT)


def _as_category(column: Matrix, kind: Kind) -> Matrix:
    """Binary values as the categories "0" and "1" (None for missing), for cartesian."""
    if kind is not Kind.BINARY:
        return column
    out = np.full(column.shape, None, dtype=object)
    out[column == 1] = "1"
    out[column == 0] = "0"
    return out


def _section(document: Mapping[str, Any], name: str) -> Mapping[str, str]:
    section = document.get(name, {})
    if not isinstance(section, dict) or not all(isinstance(v, str) for v in section.values()):
        raise InvalidInput(f"Recipe {name}={section!r}; expected an object of names to expressions")
    return section


def _check_functions(call: Call | int, where: str) -> None:
    """Every function named in the expression is one the recipe language has."""
    if isinstance(call, int) or call.args is None:
        return
    if call.name not in FUNCTIONS and call.name not in GROUP_FUNCTIONS:
        raise InvalidInput(
            f"Recipe {where}: unknown function {call.name!r}; expected one of {sorted([*FUNCTIONS, *GROUP_FUNCTIONS])}"
        )
    for arg in call.args:
        _check_functions(arg, where)


def _plain_name(arg: Call | int, where: str) -> str:
    if isinstance(arg, int) or arg.args is not None:
        raise InvalidInput(f"Recipe {where}: group() and group_remove() take variable names only")
    return arg.name


_TOKEN = re.compile(r"\s*([(),]|[^(),]+)")


def _parse(where: str, text: str) -> Call:
    """Parse `name` or `function(arg, ...)`; names may hold any character but parentheses and commas."""
    tokens = [match.group(1).strip() for match in _TOKEN.finditer(text)]
    tokens = [token for token in tokens if token]
    position = 0

    def expression() -> Call | int:
        nonlocal position
        if position >= len(tokens) or tokens[position] in "(),":
            raise InvalidInput(
                f"Recipe {where}: expected a name at {' '.join(tokens[position:]) or 'the end'!r} in {text!r}"
            )
        name = tokens[position]
        position += 1
        if position < len(tokens) and tokens[position] == "(":
            position += 1
            args = [expression()]
            while position < len(tokens) and tokens[position] == ",":
                position += 1
                args.append(expression())
            if position >= len(tokens) or tokens[position] != ")":
                raise InvalidInput(f"Recipe {where}: missing ')' in {text!r}")
            position += 1
            return Call(name, tuple(args))
        return int(name) if name.isdigit() else Call(name)

    result = expression()
    if position != len(tokens):
        raise InvalidInput(f"Recipe {where}: unexpected {' '.join(tokens[position:])!r} in {text!r}")
    if isinstance(result, int):
        raise InvalidInput(f"Recipe {where}: {text!r} is a number, not a variable")
    return result
