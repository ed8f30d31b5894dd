"""YAML loading that remembers where every node came from.

`load_yaml(text, path)` returns the plain Python data plus a `Locator` that maps a validation location
(pydantic's `loc` tuple: keys and list indexes) back to the line and column of the YAML node, so every
error can say `lessons/foo.yaml:12:7: ...`.  Syntax errors become `LessonError` with the parser's mark.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.errors import LessonError

log = logging.getLogger(__name__)

Path_ = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (a silent overwrite hides authors' mistakes)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r} (first defined on line {seen[key].start_mark.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(slots=True)
class Locator:
    """Positions (1-based line, column) of every node, keyed by its path from the root."""

    path: str
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def locate(self, loc: Sequence[str | int], *, prefer_key: bool = False) -> tuple[int | None, int | None]:
        """The deepest known node on `loc`; for an unknown key, its own key's position."""
        parts: Path_ = tuple(loc)
        if prefer_key and parts in self.key_positions:
            return self.key_positions[parts]
        while parts:
            if parts in self.positions:
                return self.positions[parts]
            parts = parts[:-1]
        return self.positions.get((), (None, None))

    def error(self, loc: Sequence[str | int], message: str, *, prefer_key: bool = False) -> LessonError:
        line, col = self.locate(loc, prefer_key=prefer_key)
        return LessonError(self.path, line, col, message)


def _walk(node: yaml.Node, path: Path_, locator: Locator) -> None:
    locator.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            child = (*path, key)
            locator.key_positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, child, locator)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), locator)


def load_yaml(text: str, path: str) -> tuple[Any, Locator]:
    """Parse `text`; raise `LessonError` with line and column on a syntax error."""
    locator = Locator(path)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        reason = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise LessonError(path, line, col, f"invalid YAML: {reason}") from None
    except yaml.YAMLError as exc:
        raise LessonError(path, None, None, f"invalid YAML: {exc}") from None
    if node is not None:
        _walk(node, (), locator)
    return data, locator


def describe_validation_error(exc: ValidationError, locator: Locator) -> list[LessonError]:
    """One `LessonError` per pydantic error, placed on the YAML node it is about."""
    errors: list[LessonError] = []
    for err in exc.errors(include_url=False):
        loc = [part for part in err["loc"] if not _is_union_tag(part)]
        field_path = ".".join(str(p) for p in loc) or "(document)"
        kind = err["type"]
        if kind == "extra_forbidden":
            message = f"unknown key {field_path!r}"
            errors.append(locator.error(loc, message, prefer_key=True))
            continue
        if kind == "missing":
            message = f"missing required field {field_path!r}"
        else:
            message = f"{field_path}: {err['msg']}"
            if "input" in err and kind not in {"value_error", "assertion_error"}:
                shown = repr(err["input"])
                if len(shown) > 60:
                    shown = shown[:57] + "..."
                message += f" (got {shown})"
        errors.append(locator.error(loc, message))
    return errors


def _is_union_tag(part: str | int) -> bool:
    # pydantic adds the union member's name to `loc` (e.g. 'str', 'dict[str,str]'); it is no YAML key.
    return isinstance(part, str) and (part in {"str", "int", "float"} or "[" in part or "function-" in part)
