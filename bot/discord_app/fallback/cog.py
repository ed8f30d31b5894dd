"""Every interaction gets an answer: buttons, menus and forms that no feature claims.

A component whose custom id matches no registered template (one left in a channel by an older version of
corobot, or a garbled one) would otherwise get no reply, and the member would see "This interaction failed".
This cog answers it privately ("this button is no longer active") and, when nothing on that message is
claimed any more, takes the dead buttons off it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import discord

from bot.discord_app.context import NO_PINGS, Interaction
from bot.discord_app.errors import send_ephemeral
from bot.discord_app.feature import Feature
from bot.discord_app.i18n import t

log = logging.getLogger(__name__)

HANDLED_TYPES = (discord.InteractionType.component, discord.InteractionType.modal_submit)


def custom_ids(components: Sequence[discord.Component]) -> Iterator[str]:
    for component in components:
        if isinstance(component, discord.ActionRow):
            yield from custom_ids(component.children)
        else:
            custom_id = getattr(component, "custom_id", None)
            if isinstance(custom_id, str):
                yield custom_id


class FallbackCog(Feature, name="Fallback"):
    @Feature.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        if interaction.type not in HANDLED_TYPES or interaction.data is None:
            return
        custom_id = str(interaction.data.get("custom_id", ""))
        claims = self.services.components.claims
        if claims(custom_id):
            return
        log.info("interaction %s by %s: unknown custom id %r", interaction.id, interaction.user.id, custom_id[:100])
        if interaction.type is discord.InteractionType.modal_submit:
            await send_ephemeral(interaction, t(interaction.locale, "fallback.form"))
            return
        message = interaction.message
        if message is not None and not any(claims(x) for x in custom_ids(message.components)):
            try:
                await interaction.response.edit_message(view=None, allowed_mentions=NO_PINGS)
            except discord.HTTPException as exc:
                log.warning("could not take the dead buttons off message %s: %s", message.id, exc)
        await send_ephemeral(interaction, t(interaction.locale, "fallback.button"))
