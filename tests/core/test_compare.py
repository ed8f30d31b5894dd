"""Version comparisons as data: which versions a run goes to, the merged output rows, the lanes that differ, and
what a runner's `Pythons` answers.  The runs here are recorded events (the comparison logic is the unit); the real
runner runs comparisons in tests/core/runner/test_runner_versions.py, the console's and Discord's tests."""

from __future__ import annotations

import pytest

from bot.core.compare import Comparison, expect_on, lane_differences, merge_lines, versions_for
from bot.core.events import Event, Finished, Output, Started, Status, TaskEvent
from bot.core.lessons import Example
from bot.core.record import RunRecord
from bot.core.versions import (
    ExamplePythonUnavailable,
    Pythons,
    PythonUnavailable,
    Unavailable,
    normalize,
    sort_versions,
)

THREE = Pythons("3.11", (("3.11", "3.11.7"), ("3.12", "3.12.1"), ("3.13", "3.13.0")), (Unavailable("3.14", "x"),))


def record(*lines: str, tasks: tuple[tuple[str, str, float], ...] = (), elapsed: float = 1.0) -> RunRecord:
    events: list[Event] = [Started()]
    events += [Output("stdout", text, t=0.1 * i) for i, text in enumerate(lines)]
    ids = {name: i + 1 for i, name in enumerate(dict.fromkeys(name for name, _, _ in tasks))}  # one task per name
    events += [TaskEvent(name, kind, t, task_id=ids[name]) for name, kind, t in tasks]
    events.append(Finished(Status.OK, elapsed))
    return RunRecord.from_events(events)


def example(**fields: object) -> Example:
    return Example.model_validate({"id": "x", "code": "print(1)", **fields})


def test_normalize_accepts_what_people_type() -> None:
    assert [normalize(x) for x in ("3.12", "python3.12", "Python 3.13", "3.12.1", "py3.11", " 3.10 ")] == [
        "3.12",
        "3.12",
        "3.13",
        "3.12",
        "3.11",
        "3.10",
    ]
    assert [normalize(x) for x in ("2.7x", "3", "latest", "3.12; rm -rf", "")] == [None] * 5
    assert sort_versions(["3.10", "3.9", "3.13", "3.9"]) == ["3.9", "3.10", "3.13"]


def test_pythons_resolve_and_choose_for_an_example() -> None:
    assert THREE.resolve(None) == "3.11" and THREE.resolve("python3.13") == "3.13"
    with pytest.raises(PythonUnavailable) as raised:
        THREE.resolve("3.14")
    assert raised.value.params == {"python": "3.14", "available": ["3.11", "3.12", "3.13"]}
    assert THREE.for_example(None) == "3.11"  # no versions declared: the default
    assert THREE.for_example(["3.11", "3.12"]) == "3.11"  # the default is one of them
    assert THREE.for_example(["3.12", "3.13", "3.14"]) == "3.13"  # else the newest installed
    assert THREE.for_example(["3.12"], requested="3.11") == "3.11"  # a member's choice wins
    with pytest.raises(ExamplePythonUnavailable) as missing:
        THREE.for_example(["3.14", "3.15"])
    assert missing.value.params == {"wanted": ["3.14", "3.15"], "available": ["3.11", "3.12", "3.13"]}
    assert THREE.installed(["3.14", "3.12", "3.11"]) == (["3.11", "3.12"], ["3.14"])
    assert THREE.describe() == "Python 3.11.7 (default), 3.12.1, 3.13.0; unavailable: 3.14 (x)"


def test_which_versions_a_run_goes_to() -> None:
    compare = example(versions=["3.11", "3.12", "3.14"], compare=True)
    assert versions_for(compare, THREE) == ["3.11", "3.12"]  # each installed, 3.14 is not
    assert versions_for(compare, THREE, "3.12") == ["3.12"]  # a chosen version: that one alone
    assert versions_for(example(versions=["3.12", "3.13"]), THREE) == ["3.13"]  # not a comparison: one run
    lonely = example(versions=["3.12", "3.14"], compare=True)  # only one of them here: a plain run on it
    assert versions_for(lonely, THREE) == ["3.12"]
    assert versions_for(example(), Pythons.single("3.11.7")) == ["3.11"]


def test_expect_by_version_replaces_only_the_fields_it_gives() -> None:
    ex = example(
        versions=["3.11", "3.12"],
        expect={
            "output": ["a", "b"],
            "elapsed": {"seconds": 1.0},
            "note": "both",
            "by_version": {"3.11": {"output": ["b", "a"], "status": "error"}},
        },
    )
    on_311, on_312 = expect_on(ex, "3.11"), expect_on(ex, "3.12")
    assert on_311 is not None and on_312 is not None
    assert (on_311.output, on_311.status, str(on_311.note)) == (["b", "a"], "error", "both")
    assert on_311.elapsed == on_312.elapsed is not None
    assert (on_312.output, on_312.status) == (["a", "b"], "ok")
    assert expect_on(example(), "3.11") is None


def test_merged_rows_share_what_every_version_printed_and_mark_the_rest() -> None:
    runs = {
        "3.11": record("start", "lazy", "a runs", "end"),
        "3.12": record("start", "a runs", "eager", "end"),
        "3.13": record("start", "a runs", "eager", "end"),
    }
    rows = [(row.text, row.versions) for row in merge_lines(runs)]
    assert rows == [
        ("start", ["3.11", "3.12", "3.13"]),
        ("lazy", ["3.11"]),
        ("a runs", ["3.11", "3.12", "3.13"]),
        ("eager", ["3.12", "3.13"]),  # printed by two versions at the same place: one row
        ("end", ["3.11", "3.12", "3.13"]),
    ]
    times = merge_lines(runs)[3].times
    assert times == {"3.12": pytest.approx(0.2), "3.13": pytest.approx(0.2)}
    same = Comparison(example(), {"3.11": record("x", "y"), "3.12": record("x", "y")})
    assert same.same_output and not Comparison(example(), runs).same_output


def test_merging_a_long_output_falls_back_to_the_fast_matcher_and_keeps_every_line() -> None:
    many = [f"line {i}" for i in range(800)]
    runs = {"3.11": record(*many), "3.12": record(*many[:400], "extra", *many[400:])}
    rows = merge_lines(runs)
    assert len(rows) == 801
    assert [row.text for row in rows if len(row.times) == 1] == ["extra"]


def test_lane_differences_name_lanes_that_exist_end_or_finish_otherwise() -> None:
    runs = {
        "3.11": record(tasks=(("main", "created", 0.0), ("say", "created", 0.0), ("say", "cancelled", 1.0))),
        "3.12": record(tasks=(("main", "created", 0.0),)),
    }
    assert [(d.name, d.kind, list(d.ends)) for d in lane_differences(runs)] == [("say", "only", ["3.11"])]
    runs = {
        "3.11": record(tasks=(("body", "created", 0.0), ("body", "done", 0.5)), elapsed=0.5),
        "3.13": record(tasks=(("body", "created", 0.0), ("body", "cancelled", 0.0)), elapsed=0.0),
    }
    assert [(d.name, d.kind, d.ends) for d in lane_differences(runs)] == [
        ("body", "outcome", {"3.11": "done", "3.13": "cancelled"})
    ]
    runs = {
        "3.11": record(tasks=(("w", "created", 0.0), ("w", "done", 0.5))),
        "3.12": record(tasks=(("w", "created", 0.0), ("w", "done", 1.5))),
        "3.13": record(tasks=(("w", "created", 0.0), ("w", "done", 1.52))),
    }
    assert [(d.name, d.kind) for d in lane_differences(runs)] == [("w", "time")]
    runs["3.11"] = record(tasks=(("w", "created", 0.0), ("w", "done", 1.45)))  # within the slack: alike
    assert lane_differences(runs) == []


def test_a_comparison_as_one_run_is_its_worst_status_and_longest_time() -> None:
    ok = RunRecord.from_events([Started(), Finished(Status.OK, 1.0)])
    failed = RunRecord.from_events([Started(), Finished(Status.ERROR, 0.5, error="ValueError: x")])
    going = RunRecord.from_events([Started()])
    assert Comparison(example(), {"3.11": ok, "3.12": going}).overall() is None
    overall = Comparison(example(), {"3.11": ok, "3.12": failed}).overall()
    assert overall is not None
    assert (overall.status, overall.elapsed, overall.error) == (Status.ERROR, 1.0, "ValueError: x")
