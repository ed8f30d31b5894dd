"""A member's progress and the server's leaderboard as text (pure)."""

from __future__ import annotations

from bot.core.review.service import Summary
from bot.core.storage import Progress
from bot.discord_app.i18n import t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip
from bot.discord_app.progress.card import CardData
from bot.discord_app.quiz.texts import mention
from bot.locales.wording import until

TOPICS_SHOWN = 5
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


def _topics(summary: Summary) -> tuple[tuple[str, float], ...]:
    return tuple(list(summary.path.topics.items())[:TOPICS_SHOWN])


def learning_text(summary: Summary, locale: str) -> str:
    """The card's numbers as text: the message itself, and the image's description for screen readers."""
    path, days = summary.path, summary.streak
    numbers = {"done": path.done, "total": len(path.lessons), "streak": days.current, "best": days.best}
    done = t(locale, "progress.learning", due=summary.due, **numbers)
    topics = ", ".join(f"{topic} {share:.0%}" for topic, share in _topics(summary))
    return done + ("\n" + t(locale, "progress.topics", topics=topics) if topics else "")


def card_data(summary: Summary, now: float, locale: str) -> CardData:
    upcoming = summary.next_due
    return CardData(
        title=t(locale, "progress.card_title"),
        lessons_label=t(locale, "progress.card_lessons"),
        lessons_done=summary.path.done,
        lessons_total=len(summary.path.lessons),
        streak_label=t(locale, "progress.card_streak"),
        streak=summary.streak.current,
        best_label=t(locale, "progress.card_best", best=summary.streak.best),
        reviews_label=t(locale, "progress.card_reviews"),
        due=summary.due,
        next_label="" if upcoming is None else t(locale, "progress.card_next", when=until(upcoming - now, locale)),
        topics_label=t(locale, "progress.card_topics"),
        topics=_topics(summary),
    )
