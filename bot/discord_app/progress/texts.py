"""A member's progress and the server's leaderboard as text (pure)."""

from __future__ import annotations

from bot.core.storage import Progress
from bot.discord_app.i18n import t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip
from bot.discord_app.quiz.texts import mention

PERIODS = {"week": "progress.period.week", "month": "progress.period.month", "all": "progress.period.all"}


def progress_text(progress: Progress, locale: str) -> str:
    accuracy = "—" if progress.accuracy is None else f"{progress.accuracy:.0%}"
    completed = ", ".join(f"`{x}`" for x in progress.lessons_completed[:20]) or "—"
    lessons = {"started": len(progress.lessons_started), "completed": len(progress.lessons_completed)}
    runs = {"runs": progress.examples_run, "ok": progress.runs_ok}
    quiz = {"answers": progress.answers, "correct": progress.correct, "accuracy": accuracy, "points": progress.points}
    lines = [
        t(locale, "progress.title"),
        t(locale, "progress.lessons", completed_ids=completed, **lessons),
        t(locale, "progress.runs", **runs),
        t(locale, "progress.quiz", **quiz),
    ]
    return clip("\n".join(lines), MESSAGE_LIMIT)


def leaderboard_text(rows: list[tuple[int, int, int]], period: str, locale: str) -> str:
    out = [t(locale, "progress.board_title", period=t(locale, PERIODS[period]))]
    for rank, (uid, points, correct) in enumerate(rows, start=1):
        out.append(t(locale, "progress.board_row", rank=rank, user=mention(uid), points=points, correct=correct))
    if not rows:
        out.append(t(locale, "progress.board_empty"))
    return clip("\n".join(out), MESSAGE_LIMIT)
