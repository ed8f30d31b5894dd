"""YAML loading that remembers where every node came from.

`load_yaml(text, path)` returns the plain Python data plus a `Locator` that maps a validation location
(pydantic's `loc` tuple: keys and list indexes) back to the line and column of the YAML node, so every
error can say `lessons/foo.yaml:12:7: ...`.  Syntax errors become `LessonError` with the parser's mark, and
so does a file past one of the `YamlLimits` (size, nesting, values after alias expansion, alias uses; see
`bot.core.yamllimits`).  `parse_yaml` is the fast half: the data and the root node, the positions only
when an error needs them (`Locator.from_node`).

`describe_validation_error(exc, locator, model)` turns a pydantic `ValidationError` into one readable
`LessonError` per problem: union tags pydantic puts into `loc` (`str`, `dict[...]`, a quiz question's
`choice`) are dropped, the branches of a `str | mapping` field are merged into one "expected ..." message,
an unknown key lists the keys allowed there, and errors raised by model validators land on the field they
are about (see `rule_error`).
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from bot.core.errors import LessonError
from bot.core.yamllimits import (
    LIMITS,
    MAP_TAG,
    MERGE_TAG,
    SEQ_TAG,
    STR_TAG,
    Builder,
    LimitError,
    YamlLimits,
    size_error,
)

__all__ = ["LIMITS", "Locator", "YamlLimits", "describe_validation_error", "load_yaml", "parse_yaml", "rule_error"]


Path_ = tuple[str | int, ...]

RULE_ERROR = "lesson_rule"
"""Error type of `rule_error`: its context says which field (`at`) the message is about."""


def rule_error(message: str, at: str = "", **context: Any) -> PydanticCustomError:
    """An error for a model validator to raise, placed on the dotted field `at` below that model."""
    return PydanticCustomError(RULE_ERROR, "{reason}", {"reason": message, "at": at, **context})


if TYPE_CHECKING:
    _Base = yaml.SafeLoader
else:  # libyaml when installed: ~5x faster to load the lessons folder, same marks (line/column)
    _Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_WILDCARD = tuple(_Base.yaml_implicit_resolvers.get(None, []))
_IMPLICIT = {first: (*pairs, *_WILDCARD) for first, pairs in _Base.yaml_implicit_resolvers.items() if first is not None}


class _Loader(_Base):
    """Safe loader that refuses duplicate mapping keys (a silent overwrite hides authors' mistakes).

    libyaml calls back into Python to pick each node's tag; these overrides give the same answers as
    PyYAML's resolver without its per-node bookkeeping for path resolvers (a safe loader has none), which
    was a fifth of the time to parse a lessons folder."""

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, pattern in _IMPLICIT.get(value[:1], _WILDCARD):
                    if pattern.match(value):
                        return str(tag)
            return STR_TAG
        return SEQ_TAG if kind is yaml.SequenceNode else MAP_TAG

    def descend_resolver(self, current_node: yaml.Node | None, current_index: object) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


assert not _Loader.yaml_path_resolvers, "the resolve() override assumes no path resolvers"


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == MERGE_TAG:  # `<<: *base`: merged keys may be overridden, PyYAML merges them below
            continue
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
    styles: dict[Path_, str | None] = field(default_factory=dict)  # scalar style: '|', '>', '"', "'" or None
    lines: list[str] = field(default_factory=list)  # the source text, for block scalar indentation
    data: Any = None  # the loaded document, to tell YAML keys from pydantic's union tags

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

    def text_position(self, loc: Sequence[str | int], line: int, column: int | None = None) -> tuple[int, int]:
        """Where line `line` (1-based) of the string at `loc` sits in the file, e.g. a `code: |` block's line."""
        node_line, node_col = self.locate(loc)
        if node_line is None or node_col is None:
            return (line, column or 1)
        style = self.styles.get(tuple(loc))
        if style in ("|", ">"):
            file_line = node_line + line  # the content starts on the line after the `|` header
            indent = self._block_indent(node_line)
            return (file_line, indent + (column or 1))
        quote = 1 if style in ('"', "'") else 0
        if line == 1:
            return (node_line, node_col + quote + (column or 1) - 1)
        return (node_line + line - 1, column or 1)

    def _block_indent(self, header_line: int) -> int:
        for text in self.lines[header_line:]:  # header_line is 1-based: this starts on the next line
            if text.strip():
                return len(text) - len(text.lstrip(" "))
        return 0

    @classmethod
    def from_node(cls, path: str, text: str, node: yaml.Node | None, data: Any) -> Locator:
        """The positions of a document `parse_yaml` returned (walked within the limits it was built with)."""
        locator = cls(path, lines=text.splitlines(), data=data)
        if node is not None:
            _walk(node, (), locator)
        return locator


def _walk(node: yaml.Node, path: Path_, locator: Locator) -> None:
    locator.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        locator.styles[path] = node.style
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            child = (*path, key)
            locator.key_positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, child, locator)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), locator)


def parse_yaml(text: str, path: str, limits: YamlLimits = LIMITS) -> tuple[Any, yaml.Node | None]:
    """The data of `text` and its root node (None for an empty document); `LessonError` with line and column
    for a syntax error or a file past `limits`."""
    size = size_error(text.encode("utf-8", "surrogatepass"), limits) if len(text) * 4 > limits.max_bytes else None
    if size is not None:
        raise LessonError(path, size[0], None, size[1])
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = Builder(loader, limits).build(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        reason = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        prefix = "" if isinstance(exc, LimitError) else "invalid YAML: "
        raise LessonError(path, line, col, prefix + reason) from None
    except yaml.YAMLError as exc:
        raise LessonError(path, None, None, f"invalid YAML: {exc}") from None
    except RecursionError:  # PyYAML's pure-Python composer recurses per level (libyaml stops at 1000 itself)
        reason = f"values nested more than {limits.max_depth} levels deep, the limit"
        raise LessonError(path, None, None, reason) from None
    return data, node


def load_yaml(text: str, path: str, limits: YamlLimits = LIMITS) -> tuple[Any, Locator]:
    """Parse `text`: its data and the position of every value; raise `LessonError` with line and column on a
    syntax error or a file past `limits`."""
    data, node = parse_yaml(text, path, limits)
    return data, Locator.from_node(path, text, node, data)


# --- describing validation errors -------------------------------------------------------------------

_TYPE_WORDS = {
    "string_type": "a string",
    "dict_type": "a mapping (key: value)",
    "list_type": "a list",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
}
_SLUG_PATTERN = "^[a-z0-9][a-z0-9_-]*$"


@dataclass(slots=True)
class _Err:
    loc: Path_  # YAML path, union tags removed
    union: Path_ | None  # where a `str | ...` union branched, when a branch tag was removed
    detail: ErrorDetails


def _is_type_tag(part: str | int) -> bool:
    # pydantic names union members in `loc`: 'str', 'list[str]', 'dict[constrained-str,str]', 'function-after[..]'
    return isinstance(part, str) and (
        part in {"str", "int", "float", "bool", "none", "[key]"} or "[" in part or part.startswith("function-")
    )


def _strip_tags(loc: Sequence[str | int], data: Any) -> tuple[Path_, Path_ | None]:
    """Drop pydantic's union tags from `loc`, using the document to tell real keys from tags."""
    out: list[str | int] = []
    union: Path_ | None = None
    node = data
    tag_ok = True  # at most one tag follows each real key
    for part in loc:
        if part == "[key]":  # pydantic marks an error in a mapping's key; the key itself is the last part
            continue
        if isinstance(node, dict):
            if tag_ok and isinstance(part, str) and node.get("type") == part and part != "type":
                tag_ok = False  # discriminated union (quiz question types): the tag is the `type` value
                continue
            if part in node:
                out.append(part)
                node, tag_ok = node[part], True
                continue
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node, tag_ok = node[part], True
            continue
        if tag_ok and _is_type_tag(part):
            tag_ok = False
            union = tuple(out)
            continue
        out.append(part)
        node = None
    return tuple(out), union


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, str):
        return f"the string {_shown(value)}"
    return _shown(value)


def _unwrap(annotation: Any, data: Any) -> Any:
    """The model class (or annotation) an annotation holds for `data`: Optional/Annotated/unions unwrapped."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            if isinstance(data, dict) and len(models) > 1 and "type" in data:
                for model in models:
                    tag = model.model_fields.get("type")
                    if tag is not None and data["type"] in typing.get_args(tag.annotation):
                        return model
                return None
            annotation = models[0] if len(models) == 1 else (members[0] if len(members) == 1 else None)
        else:
            return annotation


def _model_at(model: type[BaseModel] | None, loc: Path_, data: Any) -> type[BaseModel] | None:
    """The model class that validated the mapping at `loc`, if it can be found."""
    current: Any = model
    node = data
    for part in loc:
        if isinstance(part, int):
            origin = typing.get_origin(current)
            if origin is not list:
                return None
            current = _unwrap(typing.get_args(current)[0], node[part] if isinstance(node, list) else None)
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        node = node.get(part) if isinstance(node, dict) else None
        current = _unwrap(current.model_fields[part].annotation, node)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _dotted(loc: Path_) -> str:
    return ".".join(str(p) for p in loc)


def _message(err: _Err, model: type[BaseModel] | None, data: Any) -> tuple[Path_, str, bool]:
    """(where, message, prefer_key) for one error."""
    detail, loc = err.detail, err.loc
    kind, ctx = detail["type"], detail.get("ctx") or {}
    path = _dotted(loc)
    here = f"{path}: " if path else ""
    given = detail.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1], data)
        message = f"unknown key {str(loc[-1])!r}" + (f" in {_dotted(loc[:-1])}" if len(loc) > 1 else "")
        if owner is not None:
            allowed = list(owner.model_fields)
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
            message += f"; allowed keys: {', '.join(allowed)}"
        return loc, message, True
    if kind == "missing":
        parent = f" in {_dotted(loc[:-1])}" if len(loc) > 1 else ""
        return loc, f"missing required key {str(loc[-1])!r}{parent}", False
    if kind == RULE_ERROR:
        at = tuple(int(p) if p.isdigit() else p for p in str(ctx.get("at", "")).split(".") if p)
        where = (*loc, *at)
        return where, (f"{_dotted(where)}: " if where else "") + str(ctx["reason"]), False
    if kind == "union_tag_not_found":
        tags = _discriminator_tags(model, loc, data)
        return loc, f"{here}missing required key 'type'" + (f" (one of: {tags})" if tags else ""), False
    if kind == "union_tag_invalid":
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        return (*loc, "type"), f"{path}.type: unknown type {ctx.get('tag')!r}; expected one of: {expected}", False
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == _SLUG_PATTERN:
        return (
            loc,
            f"{here}{_shown(given)} is not a valid id: use lowercase letters, digits, '-' and '_' (e.g. 'two-tasks')",
            False,
        )
    if kind == "string_pattern_mismatch" and "[a-z]{2,3}" in str(ctx.get("pattern")):
        return loc, f"{here}{_shown(given)} is not a language tag like 'en' or 'zh-CN'", False
    if kind in {"too_short", "too_long"}:
        bound = f"at least {ctx.get('min_length')}" if kind == "too_short" else f"at most {ctx.get('max_length')}"
        noun = "item" if isinstance(given, list | dict) else "character"
        return loc, f"{here}needs {bound} {noun}(s), got {ctx.get('actual_length', '?')}", False
    if kind in _TYPE_WORDS:
        return loc, f"{here}expected {_TYPE_WORDS[kind]}, got {_type_name(given)}", False
    message = str(detail["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind not in {"value_error", "assertion_error"} and "input" in detail and not isinstance(given, dict | list):
        message += f" (got {_shown(given)})"
    return loc, here + message, False


def _discriminator_tags(model: type[BaseModel] | None, loc: Path_, data: Any) -> str:
    if model is None or not loc or not isinstance(loc[-1], int):
        return ""
    parent = _model_at(model, loc[:-2], data) if len(loc) >= 2 else None
    if parent is None or loc[-2] not in parent.model_fields:
        return ""
    annotation = parent.model_fields[str(loc[-2])].annotation
    item = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else annotation
    while typing.get_origin(item) is typing.Annotated:
        item = typing.get_args(item)[0]
    tags: list[str] = []
    for member in typing.get_args(item):
        if isinstance(member, type) and issubclass(member, BaseModel) and "type" in member.model_fields:
            tags.extend(str(a) for a in typing.get_args(member.model_fields["type"].annotation))
    return ", ".join(tags)


def _merge_unions(errs: list[_Err]) -> list[_Err | tuple[Path_, str]]:
    """For a `str | mapping` field: drop the branch that does not apply, or merge both 'expected' messages."""
    out: list[_Err | tuple[Path_, str]] = []
    groups: dict[Path_, list[_Err]] = {}
    for err in errs:
        if err.union is None:
            out.append(err)
        else:
            if err.union not in groups:
                out.append(err)  # placeholder keeps the order; replaced below
            groups.setdefault(err.union, []).append(err)
    result: list[_Err | tuple[Path_, str]] = []
    for item in out:
        if isinstance(item, _Err) and item.union is not None:
            group = groups[item.union]
            mismatches = [e for e in group if e.loc == item.union and e.detail["type"] in _TYPE_WORDS]
            others = [e for e in group if e not in mismatches]
            if others:
                result.extend(others)
            else:
                words = list(dict.fromkeys(_TYPE_WORDS[e.detail["type"]] for e in mismatches))
                path = _dotted(item.union)
                given = _type_name(mismatches[0].detail.get("input"))
                wanted = " or ".join(words)
                if "a string" in words and any("mapping" in w for w in words):
                    wanted = "text: a string, or a mapping of language to string like {en: ..., zh-CN: ...}"
                result.append((item.union, f"{path + ': ' if path else ''}expected {wanted}, got {given}"))
        else:
            result.append(item)
    return result


def describe_validation_error(
    exc: ValidationError, locator: Locator, model: type[BaseModel] | None = None
) -> list[LessonError]:
    """One `LessonError` per problem, placed on the YAML node it is about.

    `model` (the class that was validated) lets an unknown key list the keys allowed in its place.
    """
    errs = []
    for detail in exc.errors(include_url=False):
        loc, union = _strip_tags(detail["loc"], locator.data)
        errs.append(_Err(loc, union, detail))
    errors: list[LessonError] = []
    seen: set[str] = set()
    for item in _merge_unions(errs):
        if isinstance(item, tuple):
            error = locator.error(item[0], item[1])
        else:
            where, message, prefer_key = _message(item, model, locator.data)
            ctx = item.detail.get("ctx") or {}
            if item.detail["type"] == RULE_ERROR and isinstance(ctx.get("text_line"), int):
                line, col = locator.text_position(where, ctx["text_line"], ctx.get("text_column"))
                error = LessonError(locator.path, line, col, message)
            else:
                error = locator.error(where, message, prefer_key=prefer_key)
        if str(error) not in seen:
            seen.add(str(error))
            errors.append(error)
    return errors
