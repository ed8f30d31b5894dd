"""Events as JSON-ready dicts and back, for events that crossed a process boundary and are not trusted.

`event_to_dict` (in `events.py`) is the `corobot run --json` shape; `event_from_dict` is its inverse for data
that came from elsewhere (a runner node, through Redis): it takes only what the event's dataclass declares,
checks every field's type, bounds every string and number, and raises `BadEvent` for anything else.  It is
generic over the `Event` union: an event type added to `events.py` (built from `str`, `int`, `float`, `bool`,
`None`, `Literal` and `StrEnum` fields) is carried with no change here.  `TaskRuns` keeps its segments packed
as bytes; its dict form lists them (`segments`), and they are read back one by one, each field checked.

Times are checked to be finite and within `max_t` seconds; strings are clipped (`MAX_TEXT` for an output
line, `MAX_LONG_TEXT` for a traceback, `MAX_SHORT_TEXT` otherwise) and made valid Unicode.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from bot.core import events as events_module
from bot.core.events import Event, RunSegment, TaskRuns
from bot.core.runner.messages import clean_text

MAX_TEXT = 64 * 1024  # characters of one output line (the runner's own line cap is below this)
MAX_LONG_TEXT = 20_000  # characters of a traceback
MAX_SHORT_TEXT = 2_000  # characters of any other string field (an error, a task name)
LONG_FIELDS = frozenset({"traceback"})
TIMES = frozenset({"t", "elapsed", "duration", "start", "end", "busy"})  # seconds within the run: bounded by max_t
MAX_INT = 2**53
MAX_FIELDS = 32  # an event dict with more keys than this is refused before looking at them
MAX_SEGMENTS = 2_000  # run segments in one `task_runs` event (the runner sends at most 400 at a time)


class BadEvent(ValueError):
    """The data is not an event this version knows, or a field is of the wrong type or out of bounds."""


Check = Callable[[Any, str], Any]


def _event_classes() -> dict[str, type]:
    classes: dict[str, type] = {}
    for cls in typing.get_args(Event):
        kind = next(f.default for f in dataclasses.fields(cls) if f.name == "type")
        classes[str(kind)] = cls
    return classes


def _field_check(name: str, hint: Any, max_t: float) -> Check:
    """A function that returns the checked (and bounded) value or raises BadEvent."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        allows_none = type(None) in options
        inner = [_field_check(name, o, max_t) for o in options if o is not type(None)]

        def union(value: Any, where: str) -> Any:
            if value is None and allows_none:
                return None
            for check in inner:
                try:
                    return check(value, where)
                except BadEvent:
                    continue
            raise BadEvent(f"{where}: {value!r:.40} is not allowed here")

        return union
    if origin is typing.Literal:
        allowed = typing.get_args(hint)

        def literal(value: Any, where: str) -> Any:
            if value not in allowed or type(value) is not type(allowed[0]):
                raise BadEvent(f"{where}: {value!r:.40} is not one of {list(allowed)}")
            return value

        return literal
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        enum_type = hint

        def enumerated(value: Any, where: str) -> Any:
            try:
                return enum_type(value)
            except (ValueError, TypeError):
                raise BadEvent(f"{where}: {value!r:.40} is not a {enum_type.__name__}") from None

        return enumerated
    if hint is bool:

        def boolean(value: Any, where: str) -> Any:
            if type(value) is not bool:
                raise BadEvent(f"{where}: expected true or false")
            return value

        return boolean
    if hint is int:

        def integer(value: Any, where: str) -> Any:
            if type(value) is not int or abs(value) > MAX_INT:
                raise BadEvent(f"{where}: expected an integer below 2**53")
            return value

        return integer
    if hint is float:
        bound = max_t if name in TIMES else float(MAX_INT)

        def real(value: Any, where: str) -> Any:
            if type(value) not in (int, float) or not math.isfinite(value) or not 0 <= value <= bound:
                raise BadEvent(f"{where}: expected a number from 0 to {bound:g}")
            return float(value)

        return real
    if hint is str:
        limit = MAX_TEXT if name == "text" else MAX_LONG_TEXT if name in LONG_FIELDS else MAX_SHORT_TEXT

        def string(value: Any, where: str) -> Any:
            if not isinstance(value, str):
                raise BadEvent(f"{where}: expected a string")
            return clean_text(value, limit)

        return string
    raise TypeError(f"event field {name}: {hint!r} cannot be carried (add it to bot/core/wire.py)")


class EventReader:
    """`read(data)`: the typed event for a dict from `event_to_dict`, checked; built once per time bound."""

    def __init__(self, max_t: float) -> None:
        self.max_t = max_t
        self._classes = _event_classes()
        self._checks: dict[str, tuple[type, dict[str, Check], frozenset[str]]] = {}
        segment_hints = typing.get_type_hints(RunSegment, vars(events_module))
        self._segment = {name: _field_check(name, segment_hints[name], max_t) for name in RunSegment._fields}
        for kind, cls in self._classes.items():
            if cls is TaskRuns:
                continue  # read by `_task_runs`
            hints = typing.get_type_hints(cls, vars(events_module))
            fields = [f for f in dataclasses.fields(cls) if f.name != "type"]
            checks = {f.name: _field_check(f.name, hints[f.name], max_t) for f in fields}
            required = frozenset(
                f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            )
            self._checks[kind] = (cls, checks, required)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._classes)

    def read(self, data: Any) -> Event:
        if not isinstance(data, Mapping) or len(data) > MAX_FIELDS:
            raise BadEvent("an event is a JSON object with a few fields")
        kind = data.get("type")
        if kind == "task_runs":
            return self._task_runs(data)
        entry = self._checks.get(kind) if isinstance(kind, str) else None
        if entry is None:
            raise BadEvent(f"unknown event type {kind!r:.40}")
        cls, checks, required = entry
        missing = required - data.keys()
        if missing:
            raise BadEvent(f"{kind}: missing {', '.join(sorted(missing))}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key == "type":
                continue
            check = checks.get(key)
            if check is None:  # a field a newer sender added: ignored, so versions can differ for a while
                continue
            values[key] = check(value, f"{kind}.{key}")
        event: Event = cls(**values)
        return event

    def _task_runs(self, data: Mapping[str, Any]) -> TaskRuns:
        segments, t = data.get("segments"), data.get("t")
        if not isinstance(segments, list) or len(segments) > MAX_SEGMENTS:
            raise BadEvent(f"task_runs.segments: expected a list of at most {MAX_SEGMENTS}")
        time_check = self._segment["start"]
        read: list[RunSegment] = []
        for index, segment in enumerate(segments):
            if not isinstance(segment, Mapping) or not {"task_id", "start", "end", "busy"} <= segment.keys():
                raise BadEvent(f"task_runs.segments[{index}]: expected task_id, start, end, busy")
            where = f"task_runs.segments[{index}]"
            values = {name: check(segment.get(name), f"{where}.{name}") for name, check in self._segment.items()}
            read.append(RunSegment(**values))
        return TaskRuns.of(read, time_check(t, "task_runs.t"))


def event_from_dict(data: Any, *, max_t: float = 3600.0) -> Event:
    """The inverse of `event_to_dict` for untrusted data (see `EventReader`; build one to read many)."""
    return EventReader(max_t).read(data)
