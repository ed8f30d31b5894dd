"""Study sessions: `/study start` — a host walks a group through a lesson on one card (Join, Leave, Next
section, Run example, Quiz question, Pause/Resume, End), with optional auto-advance; survives restarts.

    cog.py         the command; loads the service and resumes saved sessions
    service.py     live sessions: one method per card button, auto-advance timers, the end, restart
    texts.py       the card and the summary (pure)
    components.py  the card's buttons (stateless custom ids)

Needs the runs and quiz extensions loaded first (a session runs examples and asks questions through them).
"""

from __future__ import annotations

from discord.ext import commands

from bot.discord_app.context import services_of
from bot.discord_app.quiz.service import QuizService
from bot.discord_app.runs.service import RunService
from bot.discord_app.study.cog import StudyCog
from bot.discord_app.study.components import card_controls
from bot.discord_app.study.service import StudyService


async def setup(bot: commands.Bot) -> None:
    s = services_of(bot)
    quizzes, runs = s.get(QuizService), s.get(RunService)
    studies = StudyService(bot, s.catalog, s.storage, quizzes, runs, s.settings.discord, s.timing, card_controls)
    await bot.add_cog(StudyCog(bot, s, studies))
