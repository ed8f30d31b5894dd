"""Rich renderings shared by the interactive console and `corobot run`: lessons, run output, summaries.

Every label comes from the text catalog (`bot/locales`) in the language of `--locale`, like the lessons' own
text; `locale` is a locale tag (`en`, `zh-CN`) or None for English.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markdown import Markdown
from rich.rule import Rule
from rich.syntax import Syntax
from rich.text import Text

from bot.core.compare import expect_on
from bot.core.events import Event, LoopBlocked, Output, Queued, Status
from bot.core.lessons import Example, Lesson
from bot.core.record import RunRecord, Verdict
from bot.core.runner.text import strip_control
from bot.core.timeline import format_offset, render_timeline
from bot.locales import language_of, t
from bot.locales.wording import difference_text, legend, timings_warning

_STATUS_STYLE = {Status.OK: "bold green", Status.CANCELLED: "yellow"}


def _seconds(value: float) -> str:
    """`1.0`, `0.25`, `2.111`: seconds as an expectation states them."""
    text = f"{value:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def lesson_line(index: int, lesson: Lesson, locale: str | None) -> Text:
    """` 3. create-task  Create a task  [beginner]  examples: one, two`."""
    line = Text(f"{index:>2}. ")
    line.append(lesson.id, style="bold cyan")
    line.append(f"  {lesson.title.get(locale)}")
    if lesson.level:
        line.append(f"  [{lesson.level}]", style="dim")
    examples = ", ".join(e.id for e in lesson.examples)
    line.append("  " + t(locale, "console.lesson_examples", examples=examples), style="dim")
    return line


def print_lessons(console: Console, lessons: Sequence[Lesson], locale: str | None) -> None:
    if not lessons:
        console.print(t(locale, "console.no_lessons"))
        return
    for index, lesson in enumerate(lessons, start=1):
        console.print(lesson_line(index, lesson, locale))


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def print_example(console: Console, lesson: Lesson, example: Example, locale: str | None, index: int) -> None:
    title = example.title.get(locale) if example.title else example.id
    head = Text(t(locale, "console.example", n=index), style="bold")
    head.append(title)
    head.append("   " + t(locale, "console.example_run", ref=f"{lesson.id}/{example.id}"), style="dim")
    console.print(head)
    console.print(Syntax(example.code.rstrip("\n"), "python", line_numbers=True, word_wrap=True))
    expect = example.expect
    if expect is None:
        return
    facts: list[str] = []
    if expect.status != "ok":
        facts.append(t(locale, "console.expect_status", status=expect.status))
    if expect.elapsed is not None:
        facts.append(t(locale, "console.expect_time", seconds=_seconds(expect.elapsed.seconds)))
    if expect.output is not None:
        facts.append(t(locale, "console.expect_lines", count=len(expect.output)))
    if facts:
        console.print(Text(t(locale, "console.expected", facts=", ".join(facts)), style="dim"))


def print_lesson(console: Console, lesson: Lesson, locale: str | None) -> None:
    """Title, summary, objectives, sections (Markdown), key points and highlighted examples."""
    console.print(Rule(Text(f"{lesson.title.get(locale)}  ({lesson.id})", style="bold")))
    if lesson.summary is not None:
        console.print(Text(lesson.summary.get(locale), style="italic"))
    meta = [part for part in (lesson.level, ", ".join(lesson.tags)) if part]
    if lesson.prerequisites:
        meta.append(t(locale, "console.after", lessons=", ".join(lesson.prerequisites)))
    if lesson.requires_python:
        meta.append(t(locale, "console.needs_python", version=lesson.requires_python.strip()))
    if meta:
        console.print(Text(" · ".join(meta), style="dim"))
    if lesson.objectives:
        objectives = _bullets([o.get(locale) for o in lesson.objectives])
        console.print(Markdown(f"**{t(locale, 'console.objectives')}**\n\n{objectives}"))
    for section in lesson.sections:
        console.print()
        console.print(Markdown(f"## {section.title.get(locale)}\n\n{section.body.get(locale)}"))
    if lesson.key_points:
        console.print()
        points = _bullets([k.get(locale) for k in lesson.key_points])
        console.print(Markdown(f"**{t(locale, 'console.key_points')}**\n\n{points}"))
    for index, example in enumerate(lesson.examples, start=1):
        console.print()
        print_example(console, lesson, example, locale, index)
    if lesson.quiz:
        console.print()
        console.print(Text(t(locale, "console.lesson_quiz", count=len(lesson.quiz), lesson=lesson.id), style="dim"))


def event_text(event: Event, locale: str | None = None) -> Text | None:
    """One live line for an event, or None for events shown only in the summary."""
    if isinstance(event, Output):
        line = Text(format_offset(event.t), style="dim")
        line.append("  ")
        text = strip_control(event.text)  # program text: no escape sequence reaches the terminal
        if event.stream == "stderr":
            line.append(t(locale, "console.stderr", text=text), style="red")
        else:
            line.append(text)
        return line
    if isinstance(event, Queued):
        ahead = event.position - 1
        text = t(locale, "console.queued", count=ahead) if ahead > 0 else t(locale, "console.queued_next")
        return Text(text, style="yellow")
    if isinstance(event, LoopBlocked):
        where = t(locale, "console.at_line", line=event.line) if event.line is not None else ""
        # reported when the block ends: stamp it then, so the times on the left keep increasing
        ms, since = round(event.duration * 1000), format_offset(event.t)
        text = t(locale, "console.loop_blocked", ms=ms, since=since, where=where)
        return Text(f"{format_offset(event.t + event.duration)}  {text}", style="bold yellow")
    return None  # Started, TaskEvent, Finished: shown by the summary and the timeline


def summary_lines(record: RunRecord, verdict: Verdict, locale: str | None) -> list[tuple[str, str]]:
    """The summary under a run as (text, style) lines, in display order (the traceback excluded)."""
    finished = record.finished
    status = str(finished.status) if finished else t(locale, "console.running")
    if verdict.elapsed is None:
        head = t(locale, "console.status", status=status)
    else:
        head = t(locale, "console.status_in", status=status, elapsed=verdict.elapsed)
    if finished is not None and not verdict.status_ok:
        head += t(locale, "console.status_expected", expected=verdict.expected_status)
    out = [(head, _STATUS_STYLE.get(finished.status, "bold red") if finished else "yellow")]
    if finished is not None and finished.error:
        out.append((t(locale, "console.error", error=finished.error), ""))
    want = verdict.expect_elapsed
    if want is not None and verdict.elapsed_ok is not None and verdict.elapsed is not None:
        seconds, tolerance, took = _seconds(want.seconds), _seconds(want.tolerance), verdict.elapsed
        if verdict.elapsed_ok:
            out.append((t(locale, "console.time_ok", seconds=seconds, tolerance=tolerance), "green"))
        else:
            diff = f"{'+' if took >= want.seconds else '-'}{abs(took - want.seconds):.3f}"
            text = t(locale, "console.time_off", seconds=seconds, tolerance=tolerance, elapsed=took, diff=diff)
            out.append((text, "red"))
    if verdict.output is not None:
        out.append((difference_text(verdict.output, language_of(locale)), "red"))
    elif verdict.output_ok and verdict.expected_lines is not None:
        out.append((t(locale, "console.output_ok", count=verdict.expected_lines), "green"))
    if verdict.note is not None:
        out.append((t(locale, "console.why", note=verdict.note.get(locale)), ""))
    for block in record.blocked:
        where = t(locale, "console.at_line", line=block.line) if block.line is not None else ""
        warning = t(locale, "console.warning_blocked", ms=round(block.duration * 1000), at=block.t, where=where)
        out.append((warning, "yellow"))
    untrusted = timings_warning(finished, language_of(locale))
    if untrusted is not None:
        out.append((untrusted, "yellow"))
    return out


def print_summary(
    console: Console,
    record: RunRecord,
    example: Example | None,
    locale: str | None,
    *,
    width: int = 60,
    python: str | None = None,
) -> None:
    """Status, total time, expected vs actual (on the `python` version the run had), warnings, the timeline and
    the trimmed traceback."""
    console.print(Rule(style="dim"))
    verdict = record.verdict(expect_on(example, python) if example else None)
    print_summary_of(console, record, verdict, locale, width=width)


def print_summary_of(console: Console, record: RunRecord, verdict: Verdict, locale: str | None, *, width: int) -> None:
    """`print_summary` without its rule, for a given verdict."""
    for text, style in summary_lines(record, verdict, locale):
        console.print(Text(strip_control(text), style=style))  # the error and quoted lines are the program's
    drawing_width = min(width, max(console.width, 24))  # fit narrow terminals
    timeline = strip_control(render_timeline(record, width=drawing_width, legend=legend(language_of(locale))))
    if timeline:
        console.print()
        console.print(Text(t(locale, "console.timeline"), style="bold"))
        console.print(Text(timeline), no_wrap=True, overflow="ignore", crop=False)
    finished = record.finished
    if finished is not None and finished.traceback:
        console.print()
        console.print(Text(strip_control(finished.traceback.rstrip("\n")), style="red"), no_wrap=True, crop=False)
