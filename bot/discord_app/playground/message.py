"""The message of a learner run: `render_run`'s (timed lines, status, timeline) with what learner code adds —
a label saying whose code it is (never mistaken for a lesson example), a note when the code was not in a
```` ```py ```` block, the hint for `input()` without input, the comparison with the original (Edit & run), and
which parts of an exercise's check passed.  Pure functions; every word from the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.events import Status
from bot.core.exercises import Part
from bot.core.lessons import Exercise
from bot.core.playground import RunComparison
from bot.core.playground.service import ExerciseResult, Kind
from bot.core.playground.source import Origin
from bot.core.record import RunRecord
from bot.discord_app.i18n import t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip, inline_code
from bot.discord_app.runs.message import Rendered, RunView, render_run, status_text

LABELS = {
    "try": "playground.label_try",
    "message": "playground.label_message",
    "edit": "playground.label_edit",
    "exercise": "playground.label_exercise",
}
ORIGIN_NOTES = {"plain_block": "playground.note_plain_block", "plain_text": "playground.note_plain_text"}
TASKS_SHOWN = 5
HINT_LIMIT = 400


@dataclass(eq=False)
class LearnerNotes:
    """What a learner run's message says besides the run itself; filled in as the run goes."""

    kind: Kind
    author: int
    stdin_given: bool = False
    origin: Origin = "python_block"
    jump_url: str = ""  # the message the code came from ("Run with corobot")
    original_id: str = ""  # Edit & run: the example the comparison is with
    comparison: RunComparison | None = None
    comparison_missing: bool = False  # the original could not be run (in time) to compare with
    exercise: Exercise | None = None
    result: ExerciseResult | None = None
    rerun: int = 0  # how many times an edit of the message re-ran it


def _tasks(pairs: tuple[tuple[str, int], ...]) -> str:
    shown = [inline_code(name, 40) + (f"×{count}" if count > 1 else "") for name, count in pairs[:TASKS_SHOWN]]
    return ", ".join(shown) + (" …" if len(pairs) > TASKS_SHOWN else "")


def comparison_lines(diff: RunComparison, original: str, locale: str) -> list[str]:
    """The difference from the original: time, output lines, tasks (and the status when it changed)."""
    lines = [t(locale, "playground.compare_title", example=inline_code(original, 60))]
    before, after = diff.elapsed_before, diff.elapsed_after
    lines.append(t(locale, "playground.compare_time", before=before, after=after, delta=diff.delta))
    if diff.status_before != diff.status_after:
        old, new = status_text(diff.status_before, locale), status_text(diff.status_after, locale)
        lines.append(t(locale, "playground.compare_status", before=old, after=new))
    if diff.same_output:
        lines.append(t(locale, "playground.compare_output_same"))
    else:
        text = t(locale, "playground.compare_output", added=diff.lines_added, removed=diff.lines_removed)
        if diff.first_removed is not None and diff.first_added is not None:
            text += " · " + inline_code(diff.first_removed, 50) + " → " + inline_code(diff.first_added, 50)
        elif diff.first_added is not None:
            text += " · + " + inline_code(diff.first_added, 50)
        elif diff.first_removed is not None:
            text += " · − " + inline_code(diff.first_removed, 50)
        lines.append(text)
    if diff.same_tasks:
        lines.append(t(locale, "playground.compare_tasks_same"))
    else:
        parts = []
        if diff.tasks_added:
            parts.append(t(locale, "playground.compare_tasks_added", tasks=_tasks(diff.tasks_added)))
        if diff.tasks_removed:
            parts.append(t(locale, "playground.compare_tasks_removed", tasks=_tasks(diff.tasks_removed)))
        lines.append("🧵 " + " · ".join(parts))
    if diff.truncated:
        lines.append("-# " + t(locale, "playground.compare_truncated"))
    return lines


def part_text(part: Part, locale: str) -> str | None:
    """The name checks (status, time and output are shown by the run's own summary)."""
    mark = "✅" if part.ok else "❌"
    if part.kind == "must_use":
        return t(locale, "exercise.part_must_use", mark=mark, name=inline_code(part.name, 60))
    if part.kind == "must_not_use":
        return t(locale, "exercise.part_must_not_use", mark=mark, name=inline_code(part.name, 60))
    return None


def result_lines(result: ExerciseResult, locale: str) -> list[str]:
    lines = [text for part in result.grade.parts if (text := part_text(part, locale)) is not None]
    if result.grade.syntax_error:
        lines.append(t(locale, "exercise.syntax_error"))
    if result.grade.passed and not result.saved:
        lines.append(t(locale, "exercise.passed_not_saved"))
    elif result.grade.passed:
        key = "exercise.passed_points" if result.awarded else "exercise.passed_again"
        lines.append(t(locale, key, points=result.points))
    else:
        failed, total = len(result.grade.failed), len(result.grade.parts)
        lines.append(t(locale, "exercise.not_yet", failed=failed, total=total))
        if result.hint is not None:
            hint = clip(result.hint.get(locale), HINT_LIMIT).replace("\n", "\n> ")
            lines.append(t(locale, "exercise.hint", n=result.hint_number, total=result.hints, text=hint))
    return lines


def label_line(notes: LearnerNotes, locale: str) -> str:
    text = "-# 🧪 " + t(locale, LABELS[notes.kind], user=f"<@{notes.author}>", url=notes.jump_url)
    if notes.rerun:
        text += " · " + t(locale, "playground.rerun", count=notes.rerun)
    return text


def bottom_lines(record: RunRecord, notes: LearnerNotes, locale: str) -> list[str]:
    finished = record.finished
    lines: list[str] = []
    if notes.origin in ORIGIN_NOTES:
        lines.append("-# " + t(locale, ORIGIN_NOTES[notes.origin]))
    if finished is None:
        return lines
    if finished.status == Status.ERROR and (finished.error or "").startswith("EOFError"):
        lines.append(t(locale, "playground.eof_more" if notes.stdin_given else "playground.eof_none"))
    if notes.comparison is not None:
        lines.extend(comparison_lines(notes.comparison, notes.original_id, locale))
    elif notes.comparison_missing:
        lines.append("-# " + t(locale, "playground.compare_missing"))
    if notes.result is not None:
        lines.extend(result_lines(notes.result, locale))
    return lines


def render_learner(record: RunRecord, view: RunView, final: bool, notes: LearnerNotes) -> Rendered:
    """The learner run's message, within Discord's 2,000 characters (the run's part is shortened to fit)."""
    top = label_line(notes, view.locale)
    bottom = "\n".join(bottom_lines(record, notes, view.locale))
    bottom = clip(bottom, MESSAGE_LIMIT // 2)
    room = MESSAGE_LIMIT - len(top) - len(bottom) - 2
    rendered = render_run(record, view, final=final, limit=room)
    content = "\n".join(part for part in (top, rendered.content, bottom) if part)
    return Rendered(content=content, hidden=rendered.hidden, attachment=rendered.attachment)
