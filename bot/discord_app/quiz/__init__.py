"""Quizzes: `/quiz` (a group or solo quiz on a lesson), answer buttons, menus and forms, hints, reveals that run
the example (predict, then run), scoreboards; the questions of study sessions run here too.

    cog.py         the command and the form listener; loads the service and resumes saved quizzes
    service.py     live quizzes: answer windows, answers in storage, reveals, restart
    texts.py       the messages' text (pure)
    components.py  the answer controls and the answer form (stateless custom ids)
"""

from __future__ import annotations

from discord.ext import commands

from bot.discord_app.context import services_of
from bot.discord_app.quiz.cog import QuizCog
from bot.discord_app.quiz.components import quiz_controls
from bot.discord_app.quiz.service import QuizService


async def setup(bot: commands.Bot) -> None:
    services = services_of(bot)
    service = QuizService(bot, services.catalog, services.runner, services.storage, services.timing, quiz_controls)
    await bot.add_cog(QuizCog(bot, services, service))
