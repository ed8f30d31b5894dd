"""The review feature's replies as text (pure): /review, /path, /timezone, reminders, the weekly recap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.review.path import LearnerPath, LessonStanding
from bot.core.storage import RecapData
from bot.discord_app.i18n import t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip
from bot.discord_app.quiz.texts import mention
from bot.locales.wording import path_reasons

SHOWN_DONE = 30  # lesson ids listed as done


@dataclass(frozen=True, slots=True)
class Reviewed:
    lesson_id: str
    question_id: str
    correct: bool
    due: float


def when(at: float) -> str:
    """A Discord timestamp shown relative to the reader ("in 2 days"), in their own language and zone."""
    return f"<t:{int(at)}:R>"


def nothing_due(upcoming: float | None, locale: str) -> str:
    if upcoming is None:
        return t(locale, "review.nothing_yet")
    return t(locale, "review.nothing_now", when=when(upcoming))


def summary_text(done: Sequence[Reviewed], locale: str) -> str:
    right = sum(r.correct for r in done)
    lines = [t(locale, "review.summary", count=len(done), right=right)]
    for item in done:
        mark = "✔" if item.correct else "✘"
        where = {"lesson": item.lesson_id, "question": item.question_id}
        lines.append(t(locale, "review.summary_line", mark=mark, when=when(item.due), **where))
    return clip("\n".join(lines), MESSAGE_LIMIT)


def _in_progress(standing: LessonStanding, locale: str) -> str:
    s = standing
    counts = {"run": s.examples_run, "examples": s.examples, "right": s.right, "questions": s.questions}
    return t(locale, "review.path_in_progress", lesson=s.lesson_id, **counts)


def path_text(path: LearnerPath, mastery: float, locale: str) -> str:
    done = [s.lesson_id for s in path.with_status("done")]
    lines = [t(locale, "review.path_title", done=len(done), total=len(path.lessons), mastery=f"{mastery:.0%}")]
    if done:
        shown = ", ".join(f"`{x}`" for x in done[:SHOWN_DONE]) + (" …" if len(done) > SHOWN_DONE else "")
        lines.append(t(locale, "review.path_done", lessons=shown))
    lines += [_in_progress(s, locale) for s in path.with_status("in_progress")]
    locked = len(path.with_status("locked"))
    if path.next is None:
        lines.append(t(locale, "review.path_all_done"))
    else:
        lines.append(t(locale, "review.path_next", lesson=path.next.lesson_id, reasons=path_reasons(path.next, locale)))
    if locked:
        lines.append(t(locale, "review.path_locked", count=locked))
    if path.topics:
        weakest = ", ".join(f"{topic} {share:.0%}" for topic, share in list(path.topics.items())[:3])
        lines.append(t(locale, "review.path_weakest", topics=weakest))
    return clip("\n".join(lines), MESSAGE_LIMIT)


def recap_text(recap: RecapData, locale: str) -> str:
    lines = [t(locale, "review.recap_title", count=recap.learners)]
    for rank, (user, right, answers) in enumerate(recap.top, start=1):
        lines.append(t(locale, "review.recap_top", rank=rank, user=mention(user), right=right, answers=answers))
    if recap.lessons_done:
        done = ", ".join(f"`{lesson}` ×{count}" for lesson, count in recap.lessons_done[:15])
        lines.append(t(locale, "review.recap_done", lessons=done))
    missed = recap.most_missed
    if missed is not None:
        where = {"lesson": missed.lesson_id, "question": missed.question_id}
        lines.append(t(locale, "review.recap_missed", missed=missed.missed, answered=missed.answered, **where))
    if not recap.top:
        lines.append(t(locale, "review.recap_quiet"))
    return clip("\n".join(lines), MESSAGE_LIMIT)
