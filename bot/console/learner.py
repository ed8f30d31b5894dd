"""Learner code in the terminal: `corobot try FILE` and `corobot exercise LESSON[/EXERCISE] [FILE]`.

The same gate as on Discord (the core `Playground`: size limits, the learner-run timeout, the log by hash),
the same live lines with their times and the same summary and timeline as `corobot run`; an exercise is
graded part by part, its points recorded once (guild 0, the console's), with a hint after a failed try.
"""

from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown
from rich.syntax import Syntax
from rich.text import Text

from bot.console.render import event_text, print_summary
from bot.core.exercises import exercise_ref, run_name
from bot.core.lessons import Example, Exercise, Lesson
from bot.core.playground import LearnerRequest, LearnerRun, Playground
from bot.core.playground.service import ExerciseResult, Kind
from bot.core.record import RunRecord
from bot.core.runner.text import strip_control
from bot.locales import t

CONSOLE_USER = 0  # the console's member and guild (as `bot.console.quiz`)
CONSOLE_GUILD = 0
NAME_PARTS = {"must_use": "console.part_must_use", "must_not_use": "console.part_must_not_use"}


async def _run(console: Console, playground: Playground, request: LearnerRequest, locale: str | None) -> LearnerRun:
    """Start the run through the gate (raises why not) and print its lines as they come."""
    run = await playground.start(request)
    console.print(Text(t(locale, "console.learner_run", name=request.name), style="bold"))
    return run


async def _show(console: Console, run: LearnerRun, locale: str | None) -> RunRecord:
    record = RunRecord(run.request.name)
    async for event in run.handle:
        record.add(event)
        line = event_text(event, locale)
        if line is not None:
            console.print(line, soft_wrap=True)
    return record


async def try_code(
    console: Console,
    playground: Playground,
    code: str,
    stdin: str | None,
    locale: str | None,
    *,
    name: str = "main.py",
    width: int = 60,
) -> RunRecord:
    """Run a learner's program; print it live, then the summary and the timeline."""
    kind: Kind = "try"
    request = LearnerRequest(code, CONSOLE_USER, kind, CONSOLE_GUILD, stdin=stdin, name=name)
    run = await _run(console, playground, request, locale)
    record = await _show(console, run, locale)
    await playground.finish(run, record.finished)
    print_summary(console, record, None, locale, width=width)
    finished = record.finished
    if finished is not None and (finished.error or "").startswith("EOFError"):
        console.print(Text(t(locale, "console.eof_more" if stdin else "console.eof_none"), style="yellow"))
    return record


def print_exercise(console: Console, lesson: Lesson, exercise: Exercise, locale: str | None) -> None:
    """The exercise: its goal, its starting code, and how to submit a solution."""
    console.print(Text(t(locale, "console.exercise_title", title=exercise.title.get(locale)), style="bold"))
    console.print(Markdown(exercise.goal.get(locale)))
    console.print(Syntax(exercise.starter.rstrip("\n"), "python", line_numbers=True, word_wrap=True))
    ref = exercise_ref(lesson, exercise)
    how = t(locale, "console.exercise_how", ref=ref, points=exercise.points)
    console.print(Text(how, style="dim"), soft_wrap=True)  # the command stays on one line


async def grade_code(
    console: Console,
    playground: Playground,
    lesson: Lesson,
    exercise: Exercise,
    code: str,
    locale: str | None,
    *,
    width: int = 60,
) -> ExerciseResult:
    """Run a submission, print it live with the summary (the check's time and output) and which parts passed."""
    kind: Kind = "exercise"
    source = exercise_ref(lesson, exercise)
    name, timeout = run_name(exercise), exercise.timeout
    request = LearnerRequest(code, CONSOLE_USER, kind, CONSOLE_GUILD, source=source, name=name, timeout=timeout)
    run = await _run(console, playground, request, locale)
    record = await _show(console, run, locale)
    result = await playground.grade(run, lesson, exercise, record)
    checked = Example.model_construct(id=exercise.id, code=code, timeout=None, title=None, expect=exercise.check)
    print_summary(console, record, checked, locale, width=width)
    console.print()
    for part in result.grade.parts:
        if part.kind in NAME_PARTS:
            key = "console.part_ok" if part.ok else "console.part_failed"
            what = t(locale, NAME_PARTS[part.kind], name=part.name)
            console.print(Text(t(locale, key, part=what), style="green" if part.ok else "red"))
    if result.grade.passed and not result.saved:
        console.print(Text(t(locale, "console.exercise_not_saved"), style="bold yellow"))
    elif result.grade.passed:
        key = "console.exercise_passed" if result.awarded else "console.exercise_passed_again"
        console.print(Text(t(locale, key, points=result.points), style="bold green"))
    else:
        failed, total = len(result.grade.failed), len(result.grade.parts)
        console.print(Text(t(locale, "console.exercise_not_yet", failed=failed, total=total), style="bold red"))
        if result.hint is not None:
            hint = strip_control(result.hint.get(locale))
            console.print(Text(t(locale, "console.exercise_hint", n=result.hint_number, total=result.hints, text=hint)))
    return result
