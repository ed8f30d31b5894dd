"""Rich renderings shared by the interactive console and `corobot run`: lessons, run output, summaries."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from rich.console import Console
from rich.markdown import Markdown
from rich.rule import Rule
from rich.syntax import Syntax
from rich.text import Text

from bot.core.events import Event, LoopBlocked, Output, Queued, Status
from bot.core.lessons import Example, Lesson
from bot.core.record import RunRecord
from bot.core.runner.text import strip_control
from bot.core.timeline import format_offset, render_timeline

log = logging.getLogger(__name__)

STDERR_TAG = "[stderr] "
UNTRUSTED = "timings not trusted: the program reported times outside its run (shown clamped)"
_STATUS_STYLE = {Status.OK: "bold green", Status.CANCELLED: "yellow"}


def lesson_line(index: int, lesson: Lesson, locale: str | None) -> Text:
    """` 3. create-task  Create a task  [beginner]  examples: one, two`."""
    line = Text(f"{index:>2}. ")
    line.append(lesson.id, style="bold cyan")
    line.append(f"  {lesson.title.get(locale)}")
    if lesson.level:
        line.append(f"  [{lesson.level}]", style="dim")
    line.append(f"  examples: {', '.join(e.id for e in lesson.examples)}", style="dim")
    return line


def print_lessons(console: Console, lessons: Sequence[Lesson], locale: str | None) -> None:
    if not lessons:
        console.print("no lessons loaded")
        return
    for index, lesson in enumerate(lessons, start=1):
        console.print(lesson_line(index, lesson, locale))


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def print_example(console: Console, lesson: Lesson, example: Example, locale: str | None, index: int) -> None:
    title = example.title.get(locale) if example.title else example.id
    head = Text(f"Example {index}: ", style="bold")
    head.append(title)
    head.append(f"   run {lesson.id}/{example.id}", style="dim")
    console.print(head)
    console.print(Syntax(example.code.rstrip("\n"), "python", line_numbers=True, word_wrap=True))
    expect = example.expect
    if expect is None:
        return
    facts: list[str] = []
    if expect.status != "ok":
        facts.append(f"ends with: {expect.status}")
    if expect.elapsed is not None:
        facts.append(f"takes ≈ {expect.elapsed.seconds} s")
    if expect.output is not None:
        facts.append(f"prints {len(expect.output)} line{'s' if len(expect.output) != 1 else ''}")
    if facts:
        console.print(Text("expected: " + ", ".join(facts), style="dim"))


def print_lesson(console: Console, lesson: Lesson, locale: str | None) -> None:
    """Title, summary, objectives, sections (Markdown), key points and highlighted examples."""
    console.print(Rule(Text(f"{lesson.title.get(locale)}  ({lesson.id})", style="bold")))
    if lesson.summary is not None:
        console.print(Text(lesson.summary.get(locale), style="italic"))
    meta = [part for part in (lesson.level, ", ".join(lesson.tags)) if part]
    if lesson.prerequisites:
        meta.append("after: " + ", ".join(lesson.prerequisites))
    if lesson.requires_python:
        meta.append(f"needs Python {lesson.requires_python.strip()}")
    if meta:
        console.print(Text(" · ".join(meta), style="dim"))
    if lesson.objectives:
        console.print(Markdown("**Objectives**\n\n" + _bullets([o.get(locale) for o in lesson.objectives])))
    for section in lesson.sections:
        console.print()
        console.print(Markdown(f"## {section.title.get(locale)}\n\n{section.body.get(locale)}"))
    if lesson.key_points:
        console.print()
        console.print(Markdown("**Key points**\n\n" + _bullets([k.get(locale) for k in lesson.key_points])))
    for index, example in enumerate(lesson.examples, start=1):
        console.print()
        print_example(console, lesson, example, locale, index)
    if lesson.quiz:
        console.print()
        console.print(Text(f"quiz: {len(lesson.quiz)} questions (played on Discord)", style="dim"))


def event_text(event: Event) -> Text | None:
    """One live line for an event, or None for events shown only in the summary."""
    if isinstance(event, Output):
        line = Text(format_offset(event.t), style="dim")
        line.append("  ")
        text = strip_control(event.text)  # program text: no escape sequence reaches the terminal
        if event.stream == "stderr":
            line.append(STDERR_TAG + text, style="red")
        else:
            line.append(text)
        return line
    if isinstance(event, Queued):
        ahead = event.position - 1
        if ahead <= 0:
            return Text("queued: you are next", style="yellow")
        return Text(f"queued: {ahead} run{'s' if ahead != 1 else ''} ahead of you", style="yellow")
    if isinstance(event, LoopBlocked):
        where = f" (line {event.line})" if event.line is not None else ""
        # reported when the block ends: stamp it then, so the times on the left keep increasing
        return Text(
            f"{format_offset(event.t + event.duration)}  event loop was blocked for {event.duration * 1000:.0f} ms "
            f"since {format_offset(event.t)}{where}",
            style="bold yellow",
        )
    return None  # Started, TaskEvent, Finished: shown by the summary and the timeline


def print_summary(
    console: Console, record: RunRecord, example: Example | None, locale: str | None, *, width: int = 60
) -> None:
    """Status, total time, expected vs actual, warnings, the timeline and the trimmed traceback."""
    summary = record.summary(example.expect if example else None, locale)
    finished = record.finished
    style = _STATUS_STYLE.get(finished.status, "bold red") if finished else "yellow"
    console.print(Rule(style="dim"))
    for i, line in enumerate(strip_control(text) for text in summary.lines()):
        if i == 0:
            console.print(Text(line, style=style))
        elif line.startswith("warning:"):
            console.print(Text(line, style="yellow"))
        elif line.startswith("expected") or line.startswith("output"):
            good = summary.elapsed_ok if line.startswith("expected") else summary.output_ok
            console.print(Text(line, style="green" if good else "red"))
        else:
            console.print(Text(line))
    if finished is not None and not finished.timings_trusted:
        console.print(Text(f"warning: {UNTRUSTED}", style="yellow"))
    timeline = strip_control(render_timeline(record, width=min(width, max(console.width, 24))))  # fit narrow terminals
    if timeline:
        console.print()
        console.print(Text("timeline", style="bold"))
        console.print(Text(timeline), no_wrap=True, overflow="ignore", crop=False)
    if summary.traceback:
        console.print()
        console.print(Text(strip_control(summary.traceback.rstrip("\n")), style="red"), no_wrap=True, crop=False)
