"""Learning that sticks, on Discord: `/review` (the member's due cards, privately, through the quiz feature),
`/path` (where they stand, the next lesson and why, a button to open it), `/timezone`, `/reminders` (opt-in,
by direct message), `/forget-me`, and the admins' `/recap` (a weekly recap in a channel they choose).

    cog.py         the commands; starts the background work
    service.py     reviews as solo quizzes; every revealed answer feeds the review cards
    background.py  reminders (spread out, stopped by "stop" or leaving) and weekly recaps
    components.py  the forget-me confirmation and the reminders' Stop button
    texts.py       the replies' text (pure)
"""

from __future__ import annotations

from discord.ext import commands

from bot.core.review.service import Learning
from bot.discord_app.context import services_of
from bot.discord_app.quiz.service import QuizService
from bot.discord_app.review.background import Background
from bot.discord_app.review.cog import ReviewCog
from bot.discord_app.review.service import ReviewService


async def setup(bot: commands.Bot) -> None:
    services = services_of(bot)
    if services.learning is None:  # a bot built without one (tests, tools): over the same storage and lessons
        services.learning = Learning(services.storage, services.catalog, services.settings.review.learning())
    learning, settings = services.learning, services.settings.review
    background = Background(bot, learning, settings.reminder_interval, settings.reminder_spacing)
    await bot.add_cog(ReviewCog(bot, services, ReviewService(learning, services.get(QuizService)), background))

