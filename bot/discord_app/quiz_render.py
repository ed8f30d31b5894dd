"""Pure text for quizzes and study sessions: question cards, reveals, predict-then-run, scoreboards, summaries.

Nothing here talks to Discord; every function returns a message body (at most 2000 characters).  Users
are shown as `<@id>` mentions; callers send them with `AllowedMentions.none()`, so nobody is pinged.
"""

from __future__ import annotations

import logging
import random

from bot.core.lessons import ChoiceQuestion, Lesson, PredictOutputQuestion, PredictTimeQuestion, Question
from bot.core.quiz import Reveal, answer_key
from bot.core.record import RunRecord
from bot.core.sessions import SessionSummary, StudySession
from bot.core.storage import Progress
from bot.discord_app.i18n import t
from bot.discord_app.markdown import clip, code_block, code_safe, inline_code
from bot.discord_app.render import MESSAGE_LIMIT, format_line

log = logging.getLogger(__name__)

RUN_LINES = 20  # output lines shown under a reveal


def mention(user_id: int) -> str:
    return f"<@{user_id}>"


def offered_lines(question: PredictOutputQuestion) -> list[str]:
    """The lines to order, shuffled the same way for everyone and after a restart (seeded by the id)."""
    lines = question.lines()
    random.Random(question.id).shuffle(lines)
    return lines


def correct_text(question: Question, locale: str) -> str:
    if isinstance(question, ChoiceQuestion):
        keys = [c.get() for c in question.choices]
        return " + ".join(question.choices[keys.index(a)].get(locale) for a in question.answers())
    if isinstance(question, PredictOutputQuestion):
        return " → ".join(question.answer)
    if isinstance(question, PredictTimeQuestion):
        return f"{question.answer:g} s" + ("" if question.choices else f" (± {question.tolerance:g})")
    return " / ".join(question.answers)


def question_card(
    lesson: Lesson, question: Question, number: int, total: int, closes_at: float, locale: str, *, solo: bool
) -> str:
    """The question as posted: prompt, what to order, when the window closes."""
    head = t(locale, "quiz.question", title=lesson.title.get(locale), n=number, total=total)
    out = [head, question.prompt.get(locale)]
    if isinstance(question, ChoiceQuestion):
        out.append(t(locale, "quiz.how_multi" if question.multiple else "quiz.how_choice"))
    elif isinstance(question, PredictOutputQuestion):
        lines = [f"{i}. {code_safe(x)}" for i, x in enumerate(offered_lines(question), start=1)]
        out.append(code_block("\n".join(lines)))
        out.append(t(locale, "quiz.how_order"))
    elif isinstance(question, PredictTimeQuestion) and question.choices:
        out.append(t(locale, "quiz.how_choice"))
    else:
        out.append(t(locale, "quiz.how_text" if not isinstance(question, PredictTimeQuestion) else "quiz.how_time"))
    extra = t(locale, "quiz.hints", count=len(question.hints)) if question.hints else ""
    out.append(t(locale, "quiz.points", points=question.points, hints=extra))
    out.append(t(locale, "quiz.closes", when=int(closes_at)) + ("" if not solo else " " + t(locale, "quiz.solo")))
    return clip("\n".join(out), MESSAGE_LIMIT)


def closed_card(previous: str, locale: str) -> str:
    return clip(previous.split("\n⏱️")[0] + "\n" + t(locale, "quiz.closed"), MESSAGE_LIMIT)


def _distribution(reveal: Reveal, locale: str) -> str:
    question = reveal.question
    counts = dict(reveal.distribution)
    parts: list[str] = []
    if isinstance(question, ChoiceQuestion) and not question.multiple:
        right = set(question.answers())
        for choice in question.choices:
            key = choice.get()
            mark = " ✔" if key in right else ""
            parts.append(f"`{clip(choice.get(locale), 40)}`{mark} × {counts.pop(key, 0)}")
    elif isinstance(question, PredictTimeQuestion) and question.choices:
        for seconds in question.choices:
            key = answer_key(question, seconds)
            mark = " ✔" if seconds == question.answer else ""
            parts.append(f"`{key}`{mark} × {counts.pop(key, 0)}")
    for key, count in list(counts.items())[:8]:
        parts.append(f"{inline_code(key, 60)} × {count}")
    total = sum(reveal.distribution.values())
    return t(locale, "quiz.distribution", count=total, parts=" · ".join(parts) or "—")


def reveal_text(reveal: Reveal, number: int, total: int, locale: str) -> str:
    question = reveal.question
    out = [
        t(locale, "quiz.reveal", n=number, total=total, answer=code_safe(correct_text(question, locale))),
        "> " + question.explanation.get(locale).replace("\n", "\n> "),
        _distribution(reveal, locale),
    ]
    scored = [s for s in reveal.scores if s.correct]
    if scored:
        parts = []
        for s in scored[:20]:
            extra = []
            if s.speed_bonus:
                extra.append(t(locale, "quiz.bonus", points=s.speed_bonus))
            if s.hint_cost:
                extra.append(t(locale, "quiz.hint_cost", points=s.hint_cost))
            parts.append(f"{mention(s.user_id)} +{s.total}" + (f" ({', '.join(extra)})" if extra else ""))
        out.append(t(locale, "quiz.scored", who=" · ".join(parts)))
    else:
        out.append(t(locale, "quiz.nobody"))
    if reveal.late:
        out.append(t(locale, "quiz.late", count=reveal.late))
    return clip("\n".join(out), MESSAGE_LIMIT)


def run_text(example_id: str, question: Question, record: RunRecord | None, locale: str, error: str = "") -> str:
    """Predict, then run: the real output with times and the real elapsed time."""
    if record is None:
        return t(locale, "quiz.running", example=example_id) if not error else t(locale, "quiz.run_failed", error=error)
    lines = [format_line(x, 200) for x in record.lines[:RUN_LINES]]
    if len(record.lines) > RUN_LINES:
        lines.append(t(locale, "run.hidden", count=len(record.lines) - RUN_LINES))
    out = [t(locale, "quiz.real_run", example=example_id), code_block("\n".join(lines) or "(no output)")]
    done = record.finished
    if done is not None:
        out.append(t(locale, "quiz.real_time", elapsed=done.elapsed, status=done.status))
        if isinstance(question, PredictTimeQuestion):
            out.append(t(locale, "quiz.predicted_time", answer=question.answer, elapsed=done.elapsed))
    return "\n".join(out)


def scoreboard_text(board: list[tuple[int, int, int, int]], locale: str, *, title_key: str = "quiz.final") -> str:
    out = [t(locale, title_key)]
    for rank, (uid, points, right, answered) in enumerate(board[:20], start=1):
        out.append(t(locale, "quiz.board_row", rank=rank, user=mention(uid), points=points, right=right, of=answered))
    if not board:
        out.append(t(locale, "quiz.board_empty"))
    return clip("\n".join(out), MESSAGE_LIMIT)


def session_card(session: StudySession, locale: str) -> str:
    lesson = session.lesson
    out = [t(locale, "study.title", title=lesson.title.get(locale), lesson=lesson.id)]
    status = t(locale, f"study.status.{session.status}")
    out.append(t(locale, "study.host", host=mention(session.host_id), status=status))
    if session.auto_advance:
        out.append(t(locale, "study.auto", seconds=session.auto_advance))
    if 0 <= session.section < len(lesson.sections):
        section = lesson.sections[session.section]
        out.append("")
        out.append(
            t(
                locale,
                "lesson.section",
                n=session.section + 1,
                total=len(lesson.sections),
                title=section.title.get(locale),
            )
        )
        out.append(clip(section.body.get(locale), 1000))
    else:
        out.append(t(locale, "study.intro", sections=len(lesson.sections), questions=len(lesson.quiz)))
    present = session.present()
    out.append("")
    out.append(t(locale, "study.members", count=len(present), who=", ".join(mention(u) for u in present[:40]) or "—"))
    return clip("\n".join(out), MESSAGE_LIMIT)


def summary_text(session: StudySession, summary: SessionSummary, locale: str) -> str:
    minutes, seconds = divmod(int(summary.duration), 60)
    out = [
        t(locale, "study.summary", title=session.lesson.title.get(locale)),
        t(locale, "study.summary_line", duration=f"{minutes}:{seconds:02d}", people=len(summary.participants),
          questions=summary.questions, examples=len(session.examples_run)),
    ]  # fmt: skip
    for m in summary.members[:30]:
        accuracy = "—" if m.accuracy is None else f"{m.accuracy:.0%}"
        out.append(
            t(locale, "study.member_row", user=mention(m.user_id), points=m.points, right=m.correct, of=m.answered,
              accuracy=accuracy)
        )  # fmt: skip
    return clip("\n".join(out), MESSAGE_LIMIT)


def progress_text(progress: Progress, locale: str) -> str:
    accuracy = "—" if progress.accuracy is None else f"{progress.accuracy:.0%}"
    completed = ", ".join(f"`{x}`" for x in progress.lessons_completed[:20]) or "—"
    return t(
        locale, "progress.text", started=len(progress.lessons_started), completed=len(progress.lessons_completed),
        completed_ids=completed, runs=progress.examples_run, ok=progress.runs_ok, answers=progress.answers,
        correct=progress.correct, accuracy=accuracy, points=progress.points,
    )  # fmt: skip


def leaderboard_text(rows: list[tuple[int, int, int]], period: str, locale: str) -> str:
    out = [t(locale, "board.title", period=t(locale, f"board.period.{period}"))]
    for rank, (uid, points, correct) in enumerate(rows, start=1):
        out.append(t(locale, "board.row", rank=rank, user=mention(uid), points=points, correct=correct))
    if not rows:
        out.append(t(locale, "board.empty"))
    return clip("\n".join(out), MESSAGE_LIMIT)
