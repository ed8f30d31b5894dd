"""Exercises: `/exercise lesson:<id> [exercise:<id>]` shows a lesson's exercise; Solve opens a form with the
starting code (or the member's last submission); the submission runs as learner code (the playground's gate:
quota, admins' switch, the log) and is graded by the real run — which parts of the check passed, with the
timeline; the points are recorded once; a hint after a failed try.

    cog.py         the command, the form's submissions, grading
    components.py  Solve / Start over (stateless custom ids)
    texts.py       the exercise card (pure)

Needs the playground extension loaded first (it runs learner code).
"""

from __future__ import annotations

from discord.ext import commands

from bot.discord_app.context import services_of
from bot.discord_app.exercises.cog import ExercisesCog


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ExercisesCog(bot, services_of(bot)))
