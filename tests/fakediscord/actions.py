"""What a user does in the Discord client: slash commands, autocomplete, clicks, modal submits."""

# ruff: noqa: ASYNC109  (``timeout=`` parameters are part of the documented test API)

from __future__ import annotations

import logging
from typing import Any

from .gateway import Gateway
from .interactions import Interactions
from .models import FakeInteraction, FakeMessage, FakeUser, Json
from .state import World

log = logging.getLogger(__name__)


class UserActions:
    """Mixed into :class:`FakeDiscord`. Each action dispatches an INTERACTION_CREATE over the gateway."""

    world: World
    interactions: Interactions
    gateway: Gateway

    async def _send(self, ix: FakeInteraction, *, wait: bool, timeout: float) -> FakeInteraction:
        await self.gateway.dispatch("INTERACTION_CREATE", ix.payload)
        if wait:
            await ix.wait_response(timeout)
        return ix

    async def slash(
        self,
        user: FakeUser,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        channel: int | None = None,
        wait: bool = True,
        timeout: float = 10.0,
        force: bool = False,
    ) -> FakeInteraction:
        """``user`` runs ``/name [subcommand] options…``; waits for the bot's callback unless ``wait=False``.

        ``subcommand`` may be ``"sub"`` or ``"group sub"``. Option values are checked against the registered
        command (unknown/missing-required/not-a-choice raise ValueError); user/channel/role options take a
        FakeUser/FakeChannel/FakeRole and are put in ``resolved``. Raises LookupError if the bot never synced
        the command and PermissionError if ``default_member_permissions`` hides it from ``user`` (unless force).
        """
        cmd = self.interactions.find_command(name)
        if not force:
            self.interactions.check_visible(cmd, user)
        data = self.interactions.command_data(cmd, user, dict(options or {}), subcommand=subcommand)
        cid = self.world.default_channel.id if channel is None else channel
        ix = self.interactions.new(user, 2, data, channel_id=cid)
        return await self._send(ix, wait=wait, timeout=timeout)

    async def autocomplete(
        self,
        user: FakeUser,
        name: str,
        options: dict[str, Any],
        *,
        focused: str,
        subcommand: str | None = None,
        channel: int | None = None,
        timeout: float = 10.0,
    ) -> list[Json]:
        """``user`` types into option ``focused`` of ``/name``; returns the choices the bot answered with."""
        cmd = self.interactions.find_command(name)
        data = self.interactions.command_data(cmd, user, dict(options), subcommand=subcommand, focused=focused)
        cid = self.world.default_channel.id if channel is None else channel
        ix = self.interactions.new(user, 4, data, channel_id=cid)
        await self._send(ix, wait=True, timeout=timeout)
        assert ix.choices is not None
        return ix.choices

    async def click(
        self,
        user: FakeUser,
        message: FakeMessage | int,
        custom_id: str,
        values: list[str] | None = None,
        *,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> FakeInteraction:
        """``user`` clicks button ``custom_id`` (or picks ``values`` in a select) on ``message``."""
        msg = message if isinstance(message, FakeMessage) else self.world.messages_by_id[message]
        if msg.deleted:
            raise ValueError(f"message {msg.id} was deleted")
        data = self.interactions.component_data(msg, custom_id, values)
        ix = self.interactions.new(user, 3, data, channel_id=msg.channel_id, message=msg)
        return await self._send(ix, wait=wait, timeout=timeout)

    async def message_command(
        self,
        user: FakeUser,
        name: str,
        message: FakeMessage,
        *,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> FakeInteraction:
        """``user`` picks the message context-menu command ``name`` ("Apps" → name) on ``message``.

        Like Discord, the interaction carries the whole target message in ``resolved.messages`` (content
        included, whatever the bot's intents). LookupError if the bot never synced a message command ``name``.
        """
        cmd = self.interactions.find_command(name, type=3)
        if message.deleted:
            raise ValueError(f"message {message.id} was deleted")
        data: Json = {
            "id": cmd["id"],
            "name": cmd["name"],
            "type": 3,
            "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): self.world.message_payload(message)}},
        }
        if "guild_id" in cmd:
            data["guild_id"] = cmd["guild_id"]
        ix = self.interactions.new(user, 2, data, channel_id=message.channel_id)
        return await self._send(ix, wait=wait, timeout=timeout)

    async def submit_modal(
        self,
        user: FakeUser,
        opened_by: FakeInteraction,
        values: dict[str, Any],
        *,
        wait: bool = True,
        timeout: float = 10.0,
        check_lengths: bool = False,
    ) -> FakeInteraction:
        """``user`` fills in and submits the modal the bot opened in answer to ``opened_by``.

        ``values`` maps a text input's custom_id to its text (or a select's custom_id to a list of values); a
        field left out keeps its pre-filled value.  With ``check_lengths`` a value outside the field's length
        limits raises ValueError (Discord's own client would not send it); without, it is sent as a client that
        ignores the limits would.
        """
        if opened_by.modal is None:
            raise ValueError(f"the bot did not open a modal for interaction {opened_by.id}")
        data = self.interactions.modal_data(opened_by.modal, values, check_lengths=check_lengths)
        ix = self.interactions.new(user, 5, data, channel_id=opened_by.channel_id, message=opened_by.component_message)
        return await self._send(ix, wait=wait, timeout=timeout)
