"""event_from_dict: the inverse of event_to_dict for data that is not trusted."""

from __future__ import annotations

import dataclasses
import json
import math
import typing

import pytest

from bot.core.events import (
    Event,
    Finished,
    LoopBlocked,
    Output,
    Queued,
    RunsCapped,
    RunSegment,
    Started,
    Status,
    TaskEvent,
    TaskParked,
    TaskRuns,
    event_to_dict,
)
from bot.core.wire import MAX_SHORT_TEXT, MAX_TEXT, BadEvent, EventReader, event_from_dict

EVERY_KIND = [
    Queued(position=3),
    Started(t=0.0),
    Output("stdout", "Hello 世界", 0.25),
    Output("stderr", "", 1.0),
    TaskEvent("worker", "created", 0.1, task_id=4),
    TaskEvent("worker", "failed", 0.9),
    LoopBlocked(1.001, 0.5, line=12),
    LoopBlocked(0.2, 0.5),
    Finished(Status.TIMEOUT, 10.0, exit_code=None, error="deadline", traceback="Traceback ...", timings_trusted=False),
    Finished(Status.OK, 1.007, exit_code=0),
    TaskRuns.of([RunSegment(1, 0.0, 0.004, 0.003), RunSegment(2, 0.5, 0.5012, 0.001, wait_line=7)], 0.5012),
    TaskRuns.of([], 0.25),
    TaskParked(3, 12, 0.75),
    TaskParked(4, None, 1.0),
    RunsCapped(20_000, 9.5),
]


@pytest.mark.parametrize("event", EVERY_KIND, ids=lambda e: e.type)
def test_round_trip_through_json(event) -> None:
    data = json.loads(json.dumps(event_to_dict(event)))
    assert event_from_dict(data) == event


def test_every_event_type_of_the_union_is_readable() -> None:
    """A type added to events.py is carried with no change to wire.py (building the reader raises TypeError,
    naming the field, for a field type it cannot check)."""
    reader = EventReader(max_t=60)
    union = {f.default for cls in typing.get_args(Event) for f in dataclasses.fields(cls) if f.name == "type"}
    assert reader.kinds == union and "finished" in union


@pytest.mark.parametrize(
    "data, problem",
    [
        ("not a dict", "JSON object"),
        ({"type": "exploit"}, "unknown event type"),
        ({"type": "output", "stream": "stdout", "t": 0.1}, "missing text"),
        ({"type": "output", "stream": "stdin", "text": "x", "t": 0.1}, "not one of"),
        ({"type": "output", "stream": "stdout", "text": 5, "t": 0.1}, "expected a string"),
        ({"type": "output", "stream": "stdout", "text": "x", "t": 1e300}, "number from 0"),
        ({"type": "output", "stream": "stdout", "text": "x", "t": -1.0}, "number from 0"),
        ({"type": "output", "stream": "stdout", "text": "x", "t": "0.1"}, "number from 0"),
        ({"type": "output", "stream": "stdout", "text": "x", "t": True}, "number from 0"),
        ({"type": "finished", "status": "pwned", "elapsed": 1.0}, "not a Status"),
        ({"type": "finished", "status": "ok", "elapsed": 1.0, "exit_code": 2**60}, "not allowed"),
        ({"type": "finished", "status": "ok", "elapsed": 1.0, "timings_trusted": "yes"}, "true or false"),
        ({"type": "queued", "position": 1.5}, "integer"),
        ({"type": "task", "name": "t", "event": "created", "t": 0.0, "task_id": True}, "integer"),
        ({"type": "loop_blocked", "duration": math.inf, "t": 0.0}, "number from 0"),
        ({"type": "started", **{f"k{i}": i for i in range(40)}}, "a few fields"),
        ({"type": "task_runs", "segments": "abc", "t": 0.1}, "a list"),
        ({"type": "task_runs", "segments": [{"task_id": 1, "start": 0}], "t": 0.1}, "expected task_id, start"),
        ({"type": "task_runs", "segments": [dict(task_id=1, start=0, end=1e9, busy=0)], "t": 0.1}, "number from 0"),
        ({"type": "task_runs", "segments": [dict(task_id="1", start=0, end=1, busy=0)], "t": 0.1}, "integer"),
        ({"type": "task_runs", "segments": [], "t": -5}, "number from 0"),
        ({"type": "task_runs", "segments": [dict(task_id=1, start=0, end=0, busy=0)] * 2001, "t": 0}, "at most"),
    ],
)
def test_what_is_refused(data, problem) -> None:
    with pytest.raises(BadEvent, match=problem):
        event_from_dict(data, max_t=60)


def test_strings_are_clipped_and_made_valid() -> None:
    long_line = event_from_dict({"type": "output", "stream": "stdout", "text": "x" * (MAX_TEXT + 50), "t": 0.0})
    assert isinstance(long_line, Output) and len(long_line.text) == MAX_TEXT
    error = event_from_dict({"type": "finished", "status": "error", "elapsed": 0.5, "error": "e" * 10_000})
    assert isinstance(error, Finished) and error.error is not None and len(error.error) == MAX_SHORT_TEXT
    surrogate = event_from_dict({"type": "output", "stream": "stdout", "text": "a\udc80b", "t": 0.0})
    assert isinstance(surrogate, Output) and surrogate.text == "a\ufffdb"


def test_unknown_fields_are_ignored_and_defaults_apply() -> None:
    """A newer sender's extra field does not break an older reader."""
    event = event_from_dict({"type": "finished", "status": "killed", "elapsed": 2, "cause_v2": "oom"})
    assert event == Finished(Status.KILLED, 2.0)


def test_times_are_bounded_by_the_reader() -> None:
    with pytest.raises(BadEvent):
        EventReader(max_t=5).read({"type": "output", "stream": "stdout", "text": "x", "t": 6})
    assert EventReader(max_t=5).read({"type": "output", "stream": "stdout", "text": "x", "t": 5}) == Output(
        "stdout", "x", 5.0
    )
