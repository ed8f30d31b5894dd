"""The quiz's messages as text (pure): question cards, reveals, predict-then-run, the scoreboard.

Every function returns a message body of at most 2000 characters.  Members are shown as `<@id>` mentions;
every message goes out with `AllowedMentions.none()`, so nobody is pinged.
"""

from __future__ import annotations

from bot.core.errors import CorobotError
from bot.core.lessons import ChoiceQuestion, Lesson, PredictTimeQuestion, Question
from bot.core.quiz import AnswerWay, Reveal, answer_key, answer_way, correct_text, offered
from bot.core.record import RunRecord
from bot.discord_app.i18n import error_text, t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip, code_block, code_safe, inline_code
from bot.discord_app.runs.message import format_line

RUN_LINES = 20  # output lines shown under a reveal
CLOSES_MARK = "\n⏱️"  # where a question card's closing time starts (a closed card drops it)


def mention(user_id: int) -> str:
    return f"<@{user_id}>"


HOW_TO_ANSWER = {
    AnswerWay.PICK_ONE: "quiz.how_choice",
    AnswerWay.PICK_SEVERAL: "quiz.how_multi",
    AnswerWay.ORDER: "quiz.how_order",
    AnswerWay.SECONDS: "quiz.how_time",
    AnswerWay.TEXT: "quiz.how_text",
}


def question_card(
    lesson: Lesson, question: Question, number: tuple[int, int], closes_at: float, locale: str, solo: bool
) -> str:
    """The question as posted: question `n` of `total`, its prompt, what to order, when the window closes."""
    n, total = number
    out = [t(locale, "quiz.question", title=lesson.title.get(locale), n=n, total=total), question.prompt.get(locale)]
    way = answer_way(question)
    if way is AnswerWay.ORDER:
        lines = [f"{i}. {code_safe(x)}" for i, x in enumerate(offered(question), start=1)]
        out.append(code_block("\n".join(lines)))
    out.append(t(locale, HOW_TO_ANSWER[way]))
    hints = t(locale, "quiz.hints", count=len(question.hints)) if question.hints else ""
    out.append(t(locale, "quiz.points", points=question.points, hints=hints))
    closes = t(locale, "quiz.closes", when=int(closes_at))
    out.append(closes + (" " + t(locale, "quiz.solo") if solo else ""))
    return clip("\n".join(out), MESSAGE_LIMIT)


def closed_card(previous: str, locale: str) -> str:
    return clip(previous.split(CLOSES_MARK)[0] + "\n" + t(locale, "quiz.closed"), MESSAGE_LIMIT)


def _distribution(reveal: Reveal, locale: str) -> str:
    question = reveal.question
    counts = dict(reveal.distribution)
    parts: list[str] = []
    if isinstance(question, ChoiceQuestion) and not question.multiple:
        right = set(question.answers())
        for choice in question.choices:
            key = choice.get()
            mark = " ✔" if key in right else ""
            parts.append(f"{inline_code(choice.get(locale), 40)}{mark} × {counts.pop(key, 0)}")
    elif isinstance(question, PredictTimeQuestion) and question.choices:
        for seconds in question.choices:
            key = answer_key(question, seconds)
            mark = " ✔" if seconds == question.answer else ""
            parts.append(f"`{key}`{mark} × {counts.pop(key, 0)}")
    for key, count in list(counts.items())[:8]:
        parts.append(f"{inline_code(key, 60)} × {count}")
    total = sum(reveal.distribution.values())
    return t(locale, "quiz.distribution", count=total, parts=" · ".join(parts) or "—")


def reveal_text(reveal: Reveal, number: tuple[int, int], locale: str) -> str:
    question = reveal.question
    n, total = number
    answer = code_safe(correct_text(question, locale))
    out = [
        t(locale, "quiz.reveal", n=n, total=total, answer=answer),
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


def run_text(example_id: str, question: Question, run: RunRecord | CorobotError, locale: str) -> str:
    """Predict, then run: the real output with times and the real elapsed time (or why it could not run)."""
    if isinstance(run, CorobotError):
        return t(locale, "quiz.run_failed", error=error_text(run, locale))
    lines = [format_line(x, 200) for x in run.lines[:RUN_LINES]]
    if len(run.lines) > RUN_LINES:
        lines.append(t(locale, "run.hidden", count=len(run.lines) - RUN_LINES))
    out = [t(locale, "quiz.real_run", example=example_id), code_block("\n".join(lines) or t(locale, "quiz.no_output"))]
    done = run.finished
    if done is not None:
        out.append(t(locale, "quiz.real_time", elapsed=done.elapsed, status=done.status.value))
        if isinstance(question, PredictTimeQuestion):
            out.append(t(locale, "quiz.predicted_time", answer=question.answer, elapsed=done.elapsed))
    return "\n".join(out)


def scoreboard_text(board: list[tuple[int, int, int, int]], locale: str) -> str:
    out = [t(locale, "quiz.final")]
    for rank, (uid, points, right, answered) in enumerate(board[:20], start=1):
        out.append(t(locale, "quiz.board_row", rank=rank, user=mention(uid), points=points, right=right, of=answered))
    if not board:
        out.append(t(locale, "quiz.board_empty"))
    return clip("\n".join(out), MESSAGE_LIMIT)
