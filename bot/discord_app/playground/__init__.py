"""Learner code: Edit & run on run messages and lesson examples, `/try`, the "Run with corobot" message
command (re-run when its author edits the message), and the admins' switch `/playground on|off`.

    cog.py         the commands, the forms' submissions, message edits; provides the services
    service.py     learner runs on Discord: started through the core `Playground`, streamed with `RunStream`,
                   compared with the original, re-run on edit
    forms.py       the code forms and the buttons that open them (a leaf: runs and lessons use it)
    message.py     the learner run's message (pure): label, notes, comparison, exercise parts
    components.py  the Stop button of a learner run

Needs the runs extension's streaming (imported, not loaded).  The quota is the one `playground.quota.backend`
names: in memory, or in the database; with several bot processes (`cluster.redis_url`), in Redis.
"""

from __future__ import annotations

from discord.ext import commands

from bot.core.playground import LearnerQuota, MemoryQuota, Playground, StorageQuota
from bot.discord_app.context import Services, services_of
from bot.discord_app.playground.cog import PlaygroundCog
from bot.discord_app.playground.components import stop_view
from bot.discord_app.playground.service import PlaygroundService


def quota_for(services: Services) -> LearnerQuota:
    if services.learner_quota is not None:  # several bot processes: the one they share (in Redis)
        return services.learner_quota
    settings = services.settings.playground.quota
    if settings.backend == "storage":
        return StorageQuota(services.storage, settings.limits())
    return MemoryQuota(settings.limits())


async def setup(bot: commands.Bot) -> None:
    s = services_of(bot)
    settings = s.settings.playground
    core = Playground(s.runner, s.storage, quota_for(s), settings.limits())
    learner = PlaygroundService(core, s.catalog, s.runner, settings, s.settings.discord.edit_interval, stop_view)
    await bot.add_cog(PlaygroundCog(bot, s, core, learner))
