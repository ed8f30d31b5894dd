"""`lessons check`: validate every lesson file, run every example, and compare with what the lesson promises.

Output is one line per item, in catalog order:

    lessons/bad.yaml:12:7: unknown key 'exampels' ...                 (a load error: path:line:col: reason)
    PASS  tasks-concurrency/two-tasks  1.003s
    FAIL  tasks-concurrency/sequential  expected ≈2.00s ±0.25, got 3.004s
    SKIP  task-groups/basic  needs Python >=3.12 (this is 3.11)
    PASS  tasks-concurrency/quiz/how-long  predict_time: 1.0 s is the choice nearest the run's 1.003s
    FAIL  lessons/a.yaml:2:8: title is a plain string; give every language: en, zh-CN
    PASS  timeouts/wait-for-task @3.12  1.002s
    SKIP  timeouts/wait-for-task @3.14  Python 3.14 is not installed here
    PASS  sequential-vs-concurrent/exercise/overlap  the solution passes (1.004s); the starting code fails: elapsed

and a summary line.  Every example runs once; quiz questions that name an example (`predict_output`,
`predict_time`) are checked against that same run.  Given the runner's `pythons`, an example that declares
`versions` runs once on each of them installed here (its `expect.by_version` applied), the others are skipped
by name, and a line per version totals the results; a question is checked against the run on the version a
learner's run gets by default.  Every exercise's reference solution and its starting code run once each (on the
default version): the solution must pass the exercise's check, the starting code must fail it.  Under a failed
example its run's text timeline (who ran, who waited) is drawn, indented, so an author sees at once whether the
tasks overlapped as the lesson says.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from bot.core.catalog import Catalog
from bot.core.compare import expect_on
from bot.core.errors import LessonError, RunnerError
from bot.core.exercises import Grade, Part, grade
from bot.core.lessons import Example, Exercise, Lesson, PredictOutputQuestion, PredictTimeQuestion, Question, Text
from bot.core.record import ExampleRunner, OutputDifference, RunRecord, compare_output, record_run
from bot.core.timeline import render_timeline
from bot.core.versions import Pythons, sort_versions, version_key, version_tuple
from bot.core.yamlsource import Locator

log = logging.getLogger(__name__)

TIMELINE_WIDTH = 72
TIMELINE_INDENT = "      "


@dataclass(slots=True)
class CheckSummary:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    load_errors: int = 0
    by_version: dict[str, list[int]] = field(default_factory=dict)  # version -> [passed, failed, skipped]

    @property
    def exit_code(self) -> int:
        return 0 if self.failed == 0 and self.load_errors == 0 else 1

    def count(self, outcome: str, version: str | None = None) -> None:
        """One more PASS / FAIL / SKIP (of a run on `version`, when known)."""
        index = ("PASS", "FAIL", "SKIP").index(outcome)
        if index == 0:
            self.passed += 1
        elif index == 1:
            self.failed += 1
        else:
            self.skipped += 1
        if version is not None:
            self.by_version.setdefault(version, [0, 0, 0])[index] += 1

    def describe(self) -> str:
        errors = f"{self.load_errors} load error{'s' if self.load_errors != 1 else ''}"
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped, {errors}"

    def describe_versions(self) -> str:
        """`python 3.11: 170 passed, 0 failed, 0 skipped · python 3.12: …` (examples and questions run there)."""
        return " · ".join(
            f"python {version}: {passed} passed, {failed} failed, {skipped} skipped"
            for version, (passed, failed, skipped) in sorted(self.by_version.items(), key=lambda i: version_key(i[0]))
        )


Outcome = RunRecord | str  # the run, or why there is none (the runner refused or failed)


def name_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


async def run_for_check(
    runner: ExampleRunner,
    example: Example,
    describe: Callable[[BaseException], str] = name_error,
    python: str | None = None,
) -> Outcome:
    """Run `example` once (on `python`; None: the default); never raises (except on cancellation).  `describe`
    words a runner's refusal."""
    try:
        record = await record_run(runner, example, python=python)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning("running example %s failed", example.id, exc_info=True)
        return f"the runner failed: {describe(exc)}"
    return record if record.finished is not None else "the run ended without a Finished event"


def _lines(count: int) -> str:
    return f"{count} line{'s' if count != 1 else ''}"


def describe_difference(diff: OutputDifference) -> str:
    """`lessons check`'s wording of where the output departs from the expected lines."""
    if diff.actual is None:
        return f"output ended after {_lines(diff.actual_count)}; expected line {diff.line}: {diff.expected!r}"
    if diff.expected is None:
        return f"output line {diff.line}: unexpected extra line {diff.actual!r}"
    return f"output line {diff.line}: expected {diff.expected!r}, got {diff.actual!r}"


def example_problems(example: Example, outcome: Outcome, python: str | None = None) -> list[str]:
    """Every way the run (on `python`) differs from the example's `expect` on that version (status `ok` when
    nothing is expected)."""
    if isinstance(outcome, str):
        return [outcome]
    verdict = outcome.verdict(expect_on(example, python))
    finished = outcome.finished
    assert finished is not None
    problems: list[str] = []
    if not verdict.status_ok:
        detail = f" ({finished.error})" if finished.error else ""
        problems.append(f"expected status {verdict.expected_status}, got {finished.status}{detail}")
    if verdict.output is not None:
        problems.append(describe_difference(verdict.output))
    target = verdict.expect_elapsed
    if verdict.elapsed_ok is False and target is not None:
        problems.append(f"expected ≈{target.seconds:.2f}s ±{target.tolerance:g}, got {finished.elapsed:.3f}s")
    return problems


def question_problem(question: Question, outcome: Outcome) -> tuple[bool, str]:
    """(ok, explanation) for a `predict_output` / `predict_time` question against its example's run."""
    if isinstance(outcome, str):
        return False, f"example {question.example!r} has no result: {outcome}"
    assert outcome.finished is not None  # `run_for_check` returns only finished records
    if isinstance(question, PredictOutputQuestion):
        difference = compare_output(question.answer, outcome.stdout())
        if difference is not None:
            return False, f"predict_output answer differs from the run: {describe_difference(difference)}"
        return True, f"predict_output: the answer's {len(question.answer)} lines match the run"
    if isinstance(question, PredictTimeQuestion):
        elapsed = outcome.finished.elapsed
        if question.choices:
            nearest = min(question.choices, key=lambda choice: abs(choice - elapsed))
            if nearest != question.answer:
                return False, (
                    f"predict_time answer {question.answer:g} s, but the run took {elapsed:.3f}s, "
                    f"nearest to the choice {nearest:g} s"
                )
            return True, f"predict_time: {question.answer:g} s is the choice nearest the run's {elapsed:.3f}s"
        if abs(elapsed - question.answer) > question.tolerance:
            return False, (
                f"predict_time answer {question.answer:g} s ±{question.tolerance:g}, but the run took {elapsed:.3f}s"
            )
        return True, f"predict_time: {question.answer:g} s ±{question.tolerance:g} matches the run's {elapsed:.3f}s"
    return True, "nothing to check against a run"


def exercise_program(exercise: Exercise, code: str) -> Example:
    """An exercise's solution or starting code as a program to run (built, not validated: it was)."""
    return Example.model_construct(id=exercise.id, code=code, timeout=exercise.timeout, title=None, expect=None)


def describe_part(part: Part, grade: Grade, record: RunRecord) -> str:
    """`lessons check`'s wording of one failed part of an exercise's check."""
    verdict, finished = grade.verdict, record.finished
    if part.kind == "status":
        status = finished.status if finished else "?"
        detail = f" ({finished.error})" if finished is not None and finished.error else ""
        return f"ended {status}{detail}, expected {verdict.expected_status}"
    if part.kind == "elapsed" and verdict.expect_elapsed is not None:
        want = verdict.expect_elapsed
        return f"took {verdict.elapsed or 0.0:.3f}s, expected ≈{want.seconds:.2f}s ±{want.tolerance:g}"
    if part.kind == "output" and verdict.output is not None:
        return describe_difference(verdict.output)
    if part.kind == "must_use":
        return f"does not use {part.name}" if not grade.syntax_error else f"cannot look for {part.name} (syntax error)"
    if part.kind == "must_not_use":
        return f"uses {part.name}" if not grade.syntax_error else f"cannot look for {part.name} (syntax error)"
    return part.kind


def exercise_problem(exercise: Exercise, solution: Outcome, starter: Outcome) -> tuple[bool, str]:
    """(ok, explanation): the reference solution passes the check and the starting code fails it."""
    if isinstance(solution, str):
        return False, f"the solution has no result: {solution}"
    if isinstance(starter, str):
        return False, f"the starting code has no result: {starter}"
    passed = grade(exercise, solution, exercise.solution)
    if not passed.passed:
        return False, "the solution fails the check: " + "; ".join(
            describe_part(p, passed, solution) for p in passed.failed
        )
    failed = grade(exercise, starter, exercise.starter)
    if failed.passed:
        return False, "the starting code already passes the check: there is nothing to do"
    fails = ", ".join(p.kind if not p.name else f"{p.kind} {p.name}" for p in failed.failed)
    return True, f"the solution passes ({solution.elapsed or 0.0:.3f}s); the starting code fails: {fails}"


def _texts(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Text]]:
    if isinstance(value, Text):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), (*path, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, (*path, index))


def locale_problems(lesson: Lesson, locator: Locator, locales: Sequence[str]) -> list[LessonError]:
    """Every Text field of `lesson` that is a plain string or lacks one of `locales`, placed on its line."""
    problems: list[LessonError] = []
    wanted = list(locales)
    for path, text in _texts(lesson, ()):
        where = ".".join(str(p) for p in path)
        if isinstance(text.root, str):
            problems.append(locator.error(path, f"{where} is a plain string; give every language: {', '.join(wanted)}"))
            continue
        missing = [locale for locale in wanted if locale not in text.root]
        if missing:
            has = ", ".join(text.root)
            problems.append(locator.error(path, f"{where} lacks {', '.join(missing)} (it has {has})"))
    return problems


def _skip_reason(lesson: Lesson, python: str | None = None) -> str | None:
    """Why the lesson cannot run on `python` (None: this interpreter), if it cannot."""
    if lesson.supported(version_tuple(python) if python is not None else (sys.version_info[0], sys.version_info[1])):
        return None
    running = python or ".".join(str(part) for part in sys.version_info[:2])
    return f"needs Python {lesson.requires_python} (this is {running})"


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where one example runs: each version (None: the runner's default, no version known), the versions it
    declares that are not installed, and the version its quiz questions are checked against."""

    runs: list[str | None]
    missing: list[str]
    questions: str | None


def _plan(example: Example, pythons: Pythons | None) -> _Plan:
    if pythons is None:
        return _Plan([None], [], None)
    if not example.versions:
        return _Plan([pythons.default], [], pythons.default)
    here, missing = pythons.installed(example.versions)
    try:
        default: str | None = pythons.for_example(example.versions)
    except RunnerError:
        default = None
    return _Plan(list(here), missing, default)


async def check_lessons(
    catalog: Catalog,
    runner: ExampleRunner,
    *,
    out: Callable[[str], None] = print,
    require_locales: Sequence[str] = (),
    concurrency: int = 4,
    describe: Callable[[BaseException], str] = name_error,
    pythons: Pythons | None = None,
) -> CheckSummary:
    """Validate every lesson file and run every example; print one line per item and a summary.  `describe`
    words what went wrong when the runner refuses or fails a run (the CLI passes the text catalog's).  With the
    runner's `pythons`, examples run on each version they declare that is installed (see the module doc)."""
    catalog.refresh()  # loads everything on a fresh catalog; picks up edits on a loaded one
    summary = CheckSummary()
    for error in catalog.errors:
        out(str(error))
        summary.load_errors += 1

    lessons = catalog.lessons()
    if require_locales:
        for lesson in lessons:
            for problem in locale_problems(lesson, catalog.locator(lesson.id), require_locales):
                out(f"FAIL  {problem}")
                summary.failed += 1

    gate = asyncio.Semaphore(max(concurrency, 1))

    async def one(example: Example, python: str | None) -> Outcome:
        async with gate:
            return await run_for_check(runner, example, describe, python)

    runs: dict[tuple[str, str, str | None], asyncio.Task[Outcome]] = {}
    try:
        for lesson in lessons:
            for example in lesson.examples:
                for python in _plan(example, pythons).runs:
                    if _skip_reason(lesson, python) is None:
                        name = f"check {lesson.id}/{example.id}" + (f" @{python}" if python else "")
                        runs[lesson.id, example.id, python] = asyncio.create_task(one(example, python), name=name)
            for exercise in lesson.exercises if _skip_reason(lesson, None) is None else ():
                for which in ("solution", "starter"):  # on the default version, as a learner's run
                    key = f"exercise/{exercise.id}/{which}"
                    program = one(exercise_program(exercise, getattr(exercise, which)), None)
                    runs[lesson.id, key, None] = asyncio.create_task(program, name=f"check {lesson.id}/{key}")
        for lesson in lessons:
            await _report_lesson(lesson, runs, out, summary, pythons)
    finally:
        for task in runs.values():
            task.cancel()
        await asyncio.gather(*runs.values(), return_exceptions=True)
    out(summary.describe())
    if pythons is not None and summary.by_version:
        out(summary.describe_versions())
    return summary


async def _report_lesson(
    lesson: Lesson,
    runs: dict[tuple[str, str, str | None], asyncio.Task[Outcome]],
    out: Callable[[str], None],
    summary: CheckSummary,
    pythons: Pythons | None,
) -> None:
    results: dict[tuple[str, str | None], Outcome] = {}
    plans = {example.id: _plan(example, pythons) for example in lesson.examples}
    for example in lesson.examples:
        plan = plans[example.id]
        tagged = bool(example.versions) and pythons is not None  # name the version when the example has several
        for python in plan.runs:
            name = f"{lesson.id}/{example.id}" + (f" @{python}" if tagged else "")
            skip = _skip_reason(lesson, python)
            if skip is not None:
                out(f"SKIP  {name}  {skip}")
                summary.count("SKIP", python)
                continue
            outcome = results[example.id, python] = await runs[lesson.id, example.id, python]
            problems = example_problems(example, outcome, python)
            if problems or isinstance(outcome, str):
                out(f"FAIL  {name}  {'; '.join(problems)}")
                summary.count("FAIL", python)
                if not isinstance(outcome, str) and (drawing := render_timeline(outcome, width=TIMELINE_WIDTH)):
                    out("\n".join(TIMELINE_INDENT + line for line in drawing.splitlines()))
            else:
                out(f"PASS  {name}  {outcome.elapsed or 0.0:.3f}s")
                summary.count("PASS", python)
        for python in plan.missing:
            out(f"SKIP  {lesson.id}/{example.id} @{python}  Python {python} is not installed here")
            summary.count("SKIP", python)
    for question in lesson.quiz:
        if question.example is None or not isinstance(question, PredictOutputQuestion | PredictTimeQuestion):
            continue
        name = f"{lesson.id}/quiz/{question.id}"
        python = plans[question.example].questions if question.example in plans else None
        found = results.get((question.example, python))
        if found is None:
            source = lesson.example(question.example)
            wanted = ", ".join(sort_versions(source.versions or [] if source is not None else []))
            skip = _skip_reason(lesson, python) or f"its example runs on Python {wanted}, not installed here"
            out(f"SKIP  {name}  {skip}")
            summary.count("SKIP", python)
            continue
        ok, detail = question_problem(question, found)
        out(f"{'PASS' if ok else 'FAIL'}  {name}  {detail}")
        summary.count("PASS" if ok else "FAIL", python)
    for exercise in lesson.exercises:
        name, key = f"{lesson.id}/exercise/{exercise.id}", f"exercise/{exercise.id}"
        skip = _skip_reason(lesson, None)
        if skip is not None:
            out(f"SKIP  {name}  {skip}")
            summary.count("SKIP")
            continue
        solution = await runs[lesson.id, f"{key}/solution", None]
        starter = await runs[lesson.id, f"{key}/starter", None]
        ok, detail = exercise_problem(exercise, solution, starter)
        out(f"{'PASS' if ok else 'FAIL'}  {name}  {detail}")
        summary.count("PASS" if ok else "FAIL")
