"""A member's progress and the server's leaderboard as text (pure)."""

from __future__ import annotations

from bot.core.storage import Progress
from bot.discord_app.i18n import t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip
from bot.discord_app.quiz.texts import mention

PERIODS = {"week": "progress.period.week", "month": "progress.period.month", "all": "progress.period.all"}


def progress_text(progress: Progress, locale: str) -> str:
    p = progress
    accuracy = "—" if p.accuracy is None else f"{p.accuracy:.0%}"
    ids = ", ".join(f"`{x}`" for x in p.lessons_completed[:20]) or "—"
    started, completed = len(p.lessons_started), len(p.lessons_completed)
    lines = [
        t(locale, "progress.title"),
        t(locale, "progress.lessons", started=started, completed=completed, completed_ids=ids),
        t(locale, "progress.runs", runs=p.examples_run, ok=p.runs_ok),
        t(locale, "progress.quiz", answers=p.answers, correct=p.correct, accuracy=accuracy, points=p.points),
    ]
    return clip("\n".join(lines), MESSAGE_LIMIT)


def leaderboard_text(rows: list[tuple[int, int, int]], period: str, locale: str) -> str:
    out = [t(locale, "progress.board_title", period=t(locale, PERIODS[period]))]
    for rank, (uid, points, correct) in enumerate(rows, start=1):
        out.append(t(locale, "progress.board_row", rank=rank, user=mention(uid), points=points, correct=correct))
    if not rows:
        out.append(t(locale, "progress.board_empty"))
    return clip("\n".join(out), MESSAGE_LIMIT)
