"""The path: done / in progress / available / locked, and the next lesson with its reasons."""

from __future__ import annotations

from bot.core.review.path import build_path, meets_mastery, topic_mastery
from tests.core.review.lessons import choice, lesson

FIVE = tuple(choice(f"q{i}") for i in range(5))
BASICS = lesson("basics", tags=("basics",), examples=("a", "b"), questions=FIVE)
TASKS = lesson("tasks", prerequisites=("basics",), tags=("tasks",), questions=(choice("t1"), choice("t2")))
TIMEOUTS = lesson("timeouts", prerequisites=("basics",), tags=("timeouts",), questions=(choice("w1"),))
LAST = lesson("last", prerequisites=("tasks", "timeouts"), tags=("tasks",))
COURSE = [BASICS, TASKS, TIMEOUTS, LAST]


def right(lesson_id: str, *questions: str, value: bool = True) -> dict[tuple[str, str], bool | None]:
    return {(lesson_id, q): value for q in questions}


def test_done_needs_every_example_run_and_the_mastery_threshold() -> None:
    four_of_five = right("basics", "q0", "q1", "q2", "q3")
    assert meets_mastery(BASICS, {"a", "b"}, four_of_five, 0.8)
    assert not meets_mastery(BASICS, {"a"}, four_of_five, 0.8)  # example b never run
    assert not meets_mastery(BASICS, {"a", "b"}, four_of_five, 0.9)  # the threshold is configurable
    three = {**right("basics", "q0", "q1", "q2"), ("basics", "q3"): False}
    assert not meets_mastery(BASICS, {"a", "b"}, three, 0.8)  # 3/5; a wrong latest answer is not right
    assert meets_mastery(LAST, {"one"}, {}, 0.8)  # no questions: the runs are enough


def test_a_first_visit_recommends_the_first_lesson() -> None:
    path = build_path(COURSE, {}, {}, set(), 0.8)
    assert [s.status for s in path.lessons] == ["available", "locked", "locked", "locked"]
    assert path.lessons[1].missing == ("basics",)
    assert path.next is not None and path.next.lesson_id == "basics"
    assert path.next.prerequisites == () and not path.next.started
    assert path.newly_done == [] and path.done == 0


def test_standing_after_some_work() -> None:
    ran = {"basics": {"a", "b"}, "tasks": {"one"}}
    results = {**right("basics", *(f"q{i}" for i in range(5))), **right("tasks", "t1"), ("tasks", "t2"): False}
    path = build_path(COURSE, ran, results, set(), 0.8)
    assert path.newly_done == ["basics"]  # met the rule now: the service records it
    by_id = {s.lesson_id: s for s in path.lessons}
    assert by_id["basics"].status == "done" and by_id["basics"].mastery == 1.0
    assert by_id["tasks"].status == "in_progress" and (by_id["tasks"].right, by_id["tasks"].answered) == (1, 2)
    assert by_id["timeouts"].status == "available"
    assert by_id["last"].status == "locked" and by_id["last"].missing == ("tasks", "timeouts")
    # a lesson started comes first, even though another is available
    assert path.next is not None and path.next.lesson_id == "tasks" and path.next.started
    assert path.next.prerequisites == ("basics",)
    assert path.next.weakest_topic == "tasks" and path.next.topic_mastery == 0.5


def test_the_weakest_topic_picks_between_available_lessons() -> None:
    """Two lessons open, none started: the one about the topic the learner gets wrong most comes first."""
    first = lesson("first", tags=("gather",), questions=(choice("g"),))
    second = lesson("second", tags=("cancel",), questions=(choice("c"),))
    weak = lesson("weak-a", tags=("cancel",), prerequisites=("first", "second"), questions=(choice("w"),))
    strong = lesson("strong-a", tags=("gather",), prerequisites=("first", "second"))
    course = [first, second, strong, weak]
    ran = {"first": {"one"}, "second": {"one"}}
    results = {("first", "g"): True, ("second", "c"): True}
    path = build_path(course, ran, results, {"first": 1.0, "second": 1.0}, 0.8)
    assert path.next is not None and path.next.lesson_id == "strong-a"  # course order: nothing is weak
    assert path.next.weakest_topic is None
    results[("second", "c")] = False  # wrong now (a review): cancel is the weak topic
    path = build_path(course, ran, results, {"first": 1.0, "second": 1.0}, 0.8)
    assert topic_mastery(course, results) == {"cancel": 0.0, "gather": 1.0}
    assert path.next is not None and path.next.lesson_id == "weak-a"
    assert (path.next.weakest_topic, path.next.topic_mastery) == ("cancel", 0.0)
    assert path.lessons[1].status == "done"  # recorded as done: stays done


def test_everything_done_recommends_nothing() -> None:
    done = {x.id: 1.0 for x in COURSE}
    path = build_path(COURSE, {}, {}, done, 0.8)
    assert path.next is None and path.done == 4


def test_unknown_prerequisites_do_not_lock_a_lesson() -> None:
    orphan = lesson("orphan", prerequisites=("gone",))
    path = build_path([orphan], {}, {}, set(), 0.8)
    assert path.lessons[0].status == "available" and path.next is not None
