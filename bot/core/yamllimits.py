"""What one YAML file may cost: size, nesting, values after alias expansion, alias uses.

A YAML alias (`*name`) repeats the value its anchor (`&name`) names without repeating its text, so a
few hundred bytes can describe a billion values (the "billion laughs" file). libyaml composes such a file
into a small graph of nodes (an alias is the anchored node met again), but anything that walks the data
as a tree -- pydantic validation, error positions, a merge key's copying -- meets every repetition. The
`Builder` turns the node graph into Python data once per node (aliases share the object, as PyYAML does)
while counting what a tree walk would visit, and stops at the first node past a limit: the cost of a
hostile file is bounded by its size, never by what it expands to.

Every breach is a `yaml.MarkedYAMLError` carrying the line of the value that crossed the limit, so it
reaches authors as `file:line:col: reason` like any other YAML error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from yaml.constructor import BaseConstructor

STR_TAG = "tag:yaml.org,2002:str"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"
MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True, slots=True)
class YamlLimits:
    """Bounds for one file.  The defaults sit far above any real lesson (the largest shipped one is 26 KB,
    ~430 values, 6 levels deep, no aliases) and far below what would hurt the bot."""

    max_bytes: int = 512 * 1024
    max_depth: int = 32  # mappings and lists inside each other
    max_values: int = 50_000  # scalars, mappings and lists, with every alias expanded
    max_aliases: int = 1_000  # `*name` uses


LIMITS = YamlLimits()


def _kib(size: int) -> str:
    return f"{size // 1024:,} KiB" if size >= 1024 else f"{size} bytes"


def size_error(raw: bytes, limits: YamlLimits) -> tuple[int, str] | None:
    """(line, reason) when `raw` is larger than the limit; the line is where the limit is crossed."""
    if len(raw) <= limits.max_bytes:
        return None
    line = raw.count(b"\n", 0, limits.max_bytes) + 1
    return line, (
        f"the file is larger than {_kib(limits.max_bytes)}, the limit for one file (it passes the limit on this "
        "line); split it into several lessons"
    )


class LimitError(yaml.MarkedYAMLError):
    """A limit was crossed; `problem_mark` is the value that crossed it."""

    def __init__(self, mark: yaml.Mark | None, problem: str) -> None:
        super().__init__(problem=problem, problem_mark=mark)


_BUILDING = object()  # marks a node whose children are being built: meeting it again is a recursive alias


class Builder:
    """Build the data of one composed document within `limits` (see the module docstring).

    Plain mappings, lists and strings -- nearly all of a lesson -- are built here (several times faster
    than PyYAML's generic constructor); other scalars (numbers, booleans, null, dates) and any other tag
    are left to `constructor`, the loader the nodes came from, so their meaning is exactly PyYAML's.
    """

    def __init__(self, constructor: BaseConstructor, limits: YamlLimits = LIMITS) -> None:
        self.constructor = constructor
        self.limits = limits
        self.aliases = 0
        self.values = 0  # values built (distinct nodes), for tests: the work done, not what aliases expand to
        self._built: dict[int, Any] = {}
        self._sizes: dict[int, int] = {}  # values under each node, aliases expanded

    def build(self, node: yaml.Node) -> Any:
        value, _ = self._node(node, 1, None)
        return value

    def _node(self, node: yaml.Node, depth: int, parent: yaml.Node | None) -> tuple[Any, int]:
        """(the value, how many values it holds with aliases expanded)."""
        key = id(node)
        seen = self._built.get(key)
        if seen is not None or key in self._built:
            if seen is _BUILDING:
                raise LimitError(
                    (parent or node).start_mark,
                    "an alias here refers to a value that contains it (a recursive alias); it would never end",
                )
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise LimitError(
                    (parent or node).start_mark,
                    f"more than {self.limits.max_aliases:,} aliases (*name) in one file, the limit",
                )
            return seen, self._sizes[key]
        if depth > self.limits.max_depth:
            raise LimitError(node.start_mark, f"values nested more than {self.limits.max_depth} levels deep, the limit")
        self.values += 1
        if isinstance(node, yaml.ScalarNode):
            value = node.value if node.tag == STR_TAG else self.constructor.construct_object(node)
            self._built[key], self._sizes[key] = value, 1
            return value, 1
        self._built[key] = _BUILDING
        if isinstance(node, yaml.SequenceNode) and node.tag == SEQ_TAG:
            value, size = self._sequence(node, depth)
        elif isinstance(node, yaml.MappingNode) and node.tag == MAP_TAG and not _has_merge(node):
            value, size = self._mapping(node, depth)
        else:  # merge keys, sets, ordered maps, unknown tags: PyYAML's meaning, after checking the size
            size = self._measure(node, depth)
            value = self.constructor.construct_object(node, deep=True)
        self._built[key], self._sizes[key] = value, size
        return value, size

    def _count(self, total: int, node: yaml.Node) -> int:
        if total > self.limits.max_values:
            raise LimitError(
                node.start_mark,
                f"more than {self.limits.max_values:,} values here once its aliases (*name) are expanded, "
                "the limit for one file",
            )
        return total

    def _sequence(self, node: yaml.SequenceNode, depth: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        total = 1
        for child in node.value:
            value, size = self._node(child, depth + 1, node)
            items.append(value)
            total = self._count(total + size, node)
        return items, total

    def _mapping(self, node: yaml.MappingNode, depth: int) -> tuple[dict[Any, Any], int]:
        mapping: dict[Any, Any] = {}
        lines: dict[Any, int] = {}
        total = 1
        for key_node, value_node in node.value:
            key, key_size = self._node(key_node, depth + 1, node)
            try:
                duplicate = key in mapping
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r} (first defined on line {lines[key]})",
                    key_node.start_mark,
                )
            lines[key] = key_node.start_mark.line + 1
            value, value_size = self._node(value_node, depth + 1, node)
            mapping[key] = value
            total = self._count(total + key_size + value_size, node)
        return mapping, total

    def _measure(self, node: yaml.Node, depth: int) -> int:
        """Check the limits below a node PyYAML will build (children are built here too, then dropped)."""
        total = 1
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        for child in children:
            size = 1 if child.tag == MERGE_TAG else self._node(child, depth + 1, node)[1]  # `<<` itself: no value
            total = self._count(total + size, node)
        return total


def _has_merge(node: yaml.MappingNode) -> bool:
    return any(key.tag == MERGE_TAG for key, _ in node.value)
