"""The emulated world: one guild with roles, members and channels, its messages, commands and interactions."""

# ruff: noqa: ASYNC109  (``timeout=`` parameters are part of the documented test API)

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .models import (
    ADMIN_ROLE_PERMISSIONS,
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    ATTACHMENT_SIZE_LIMIT,
    BOT_ROLE_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    FakeAttachment,
    FakeChannel,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
    Json,
    RecordedFile,
    Snowflakes,
    iso,
)

log = logging.getLogger(__name__)

Dispatch = Callable[[str, Json], Awaitable[int]]


class ApiError(Exception):
    """An error response in Discord's shape: ``{"message", "code"[, "errors"]}``."""

    def __init__(self, status: int, code: int, message: str, errors: Json | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> Json:
        body: Json = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def unknown_message() -> ApiError:
    return ApiError(404, 10008, "Unknown Message")


def unknown_channel() -> ApiError:
    return ApiError(404, 10003, "Unknown Channel")


def form_error(field: str, code: str, message: str) -> ApiError:
    errors = {field: {"_errors": [{"code": code, "message": message}]}}
    return ApiError(400, 50035, "Invalid Form Body", errors)


class World:
    """All emulated Discord state. ``dispatch`` sends a gateway event (set by :class:`FakeDiscord`)."""

    def __init__(self, *, application_id: int | None = None, bot_name: str = "corobot") -> None:
        self.ids = Snowflakes()
        self.application_id = application_id or self.ids.next()
        self.bot_user = FakeUser(id=self.application_id, name=bot_name, bot=True)
        self.owner = FakeUser(id=self.ids.next(), name="owner")
        self.guild_id = self.ids.next()
        self.guild_name = "corobot test guild"
        self.attachment_base = ""  # set once the server knows its port
        self.attachment_size_limit = ATTACHMENT_SIZE_LIMIT
        self.roles: dict[int, FakeRole] = {}
        self.users: dict[int, FakeUser] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages_by_channel: dict[int, list[FakeMessage]] = {}
        self.messages_by_id: dict[int, FakeMessage] = {}
        self.attachments: dict[int, FakeAttachment] = {}
        self.commands: dict[int | None, list[Json]] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.dispatch: Dispatch | None = None
        self.intents = 0
        self._changed = asyncio.Condition()

        self.everyone = self._role_with_id(self.guild_id, "@everyone", EVERYONE_PERMISSIONS, position=0)
        self.admin_role = self.add_role("Admin", ADMIN_ROLE_PERMISSIONS)
        self.bot_role = self.add_role(bot_name, BOT_ROLE_PERMISSIONS, managed=True)
        self.bot_user.roles.append(self.bot_role.id)
        self.users[self.bot_user.id] = self.bot_user
        self.users[self.owner.id] = self.owner
        self.default_channel = self.add_channel("general")

    # ---- guild structure -------------------------------------------------------------------------
    def _role_with_id(
        self, role_id: int, name: str, permissions: int, *, position: int, managed: bool = False
    ) -> FakeRole:
        role = FakeRole(id=role_id, name=name, permissions=permissions, position=position, managed=managed)
        self.roles[role.id] = role
        return role

    def add_role(self, name: str, permissions: int = 0, *, managed: bool = False) -> FakeRole:
        return self._role_with_id(self.ids.next(), name, permissions, position=len(self.roles), managed=managed)

    def role_named(self, name: str) -> FakeRole:
        for role in self.roles.values():
            if role.name == name:
                return role
        raise KeyError(f"no role named {name!r}")

    def add_channel(
        self, name: str, *, type: int = 0, parent_id: int | None = None, owner_id: int | None = None
    ) -> FakeChannel:
        channel = FakeChannel(
            id=self.ids.next(),
            name=name,
            guild_id=self.guild_id,
            type=type,
            parent_id=parent_id,
            owner_id=owner_id,
            position=len(self.channels),
        )
        self.channels[channel.id] = channel
        self.messages_by_channel[channel.id] = []
        return channel

    def open_dm(self, user: FakeUser) -> FakeChannel:
        """The direct message channel between the bot and `user` (made on first use, as Discord does)."""
        for channel in self.channels.values():
            if channel.recipient is user:
                return channel
        channel = FakeChannel(id=self.ids.next(), name="", guild_id=None, type=1, recipient=user)
        self.channels[channel.id] = channel
        self.messages_by_channel[channel.id] = []
        return channel

    def remove_member(self, user: FakeUser) -> None:
        """`user` leaves the guild: member look-ups answer 404 Unknown Member from now on."""
        self.users.pop(user.id, None)

    def channel(self, channel_id: int) -> FakeChannel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise unknown_channel() from None

    def permissions_of(self, user: FakeUser) -> int:
        """Guild-level permissions (channel overwrites are not modelled)."""
        if user.id == self.owner.id:
            return ALL_PERMISSIONS
        perms = self.everyone.permissions
        for role_id in user.roles:
            perms |= self.roles[role_id].permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def guild_payload(self) -> Json:
        members = [u.member_payload() for u in self.users.values()]
        return {
            "id": str(self.guild_id),
            "name": self.guild_name,
            "icon": None,
            "owner_id": str(self.owner.id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "features": [],
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "splash": None,
            "discovery_splash": None,
            "max_members": 500000,
            "joined_at": self.bot_user.joined_at,
            "large": False,
            "unavailable": False,
            "member_count": len(members),
            "roles": [r.to_payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "members": members,
            "channels": [c.to_payload() for c in self.channels.values() if not c.is_thread],
            "threads": [c.to_payload() for c in self.channels.values() if c.is_thread],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
        }

    # ---- change notification ---------------------------------------------------------------------
    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, predicate: Callable[[], Any], timeout: float) -> Any:
        async def waiter() -> Any:
            async with self._changed:
                while True:
                    value = predicate()
                    if value:
                        return value
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.05)

        return await asyncio.wait_for(waiter(), timeout)

    async def emit(self, event: str, data: Json) -> None:
        if self.dispatch is not None:
            await self.dispatch(event, data)

    # ---- messages --------------------------------------------------------------------------------
    def message_payload(self, msg: FakeMessage) -> Json:
        return msg.to_payload(self.users)

    def get_message(self, channel_id: int, message_id: int) -> FakeMessage:
        msg = self.messages_by_id.get(message_id)
        if msg is None or msg.deleted or msg.channel_id != channel_id:
            raise unknown_message()
        return msg

    def new_message(self, channel_id: int, author: FakeUser, **fields: Any) -> FakeMessage:
        guild_id = self.channel(channel_id).guild_id
        msg = FakeMessage(id=self.ids.next(), channel_id=channel_id, guild_id=guild_id, author=author, **fields)
        self.messages_by_channel[channel_id].append(msg)
        self.messages_by_id[msg.id] = msg
        return msg

    def _make_attachments(self, channel_id: int, body: Json, files: list[RecordedFile]) -> list[FakeAttachment]:
        by_index: dict[int, Json] = {}
        for att in body.get("attachments") or []:
            try:
                by_index[int(att["id"])] = att
            except (KeyError, TypeError, ValueError):
                continue
        out: list[FakeAttachment] = []
        for fallback_index, rf in enumerate(files):
            if len(rf.data) > self.attachment_size_limit:
                raise ApiError(413, 40005, "Request entity too large")
            index = fallback_index
            if rf.field.startswith("files[") and rf.field.endswith("]"):
                index = int(rf.field[6:-1])
            meta = by_index.get(index, {})
            att_id = self.ids.next()
            filename = str(meta.get("filename") or rf.filename)
            url = f"{self.attachment_base}/attachments/{channel_id}/{att_id}/{filename}"
            att = FakeAttachment(
                id=att_id,
                filename=filename,
                data=rf.data,
                content_type=rf.content_type,
                url=url,
                description=meta.get("description"),
            )
            self.attachments[att_id] = att
            out.append(att)
        return out

    def apply_body(self, msg: FakeMessage, body: Json, files: list[RecordedFile], *, creating: bool) -> None:
        """Apply a create/edit payload to ``msg`` the way Discord does, validating first."""
        content = body.get("content", msg.content if not creating else "")
        content = "" if content is None else str(content)
        if len(content) > 2000:
            raise form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        embeds = body.get("embeds", msg.embeds if not creating else [])
        embeds = [] if embeds is None else embeds
        if len(embeds) > 10:
            raise form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        for i, embed in enumerate(embeds):
            if len(str(embed.get("description") or "")) > 4096:
                raise form_error(f"embeds.{i}.description", "BASE_TYPE_MAX_LENGTH", "Must be 4096 or fewer in length.")
        components = body.get("components", msg.components if not creating else [])
        components = [] if components is None else components
        new_files = self._make_attachments(msg.channel_id, body, files)
        if "attachments" in body and not creating:
            keep_ids = set()
            for att in body.get("attachments") or []:
                try:
                    keep_ids.add(int(att["id"]))
                except (KeyError, TypeError, ValueError):
                    continue
            attachments = [a for a in msg.attachments if a.id in keep_ids] + new_files
        else:
            attachments = (msg.attachments if not creating else []) + new_files
        if not (content or embeds or attachments or components):
            raise ApiError(400, 50006, "Cannot send an empty message")
        if not creating:
            msg.history.append(msg.snapshot())
            msg.edited_timestamp = iso()
        msg.content = content
        msg.embeds = list(embeds)
        msg.components = list(components)
        msg.attachments = attachments
        if "allowed_mentions" in body:
            msg.allowed_mentions = body["allowed_mentions"]
        if body.get("message_reference") is not None:
            msg.message_reference = body["message_reference"]
        if "flags" in body and body["flags"] is not None:
            settable = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | (FLAG_EPHEMERAL if creating else 0)
            msg.flags = (msg.flags & ~settable) | (int(body["flags"]) & settable)
        msg.flags &= ~FLAG_LOADING

    async def create_message(
        self, channel_id: int, author: FakeUser, body: Json, files: list[RecordedFile], **fields: Any
    ) -> FakeMessage:
        guild_id = self.channel(channel_id).guild_id
        probe = FakeMessage(id=0, channel_id=channel_id, guild_id=guild_id, author=author, **fields)
        self.apply_body(probe, body, files, creating=True)  # validate before allocating an id
        msg = self.new_message(channel_id, author, **fields)
        msg.content, msg.embeds, msg.components = probe.content, probe.embeds, probe.components
        msg.attachments, msg.allowed_mentions, msg.flags = probe.attachments, probe.allowed_mentions, probe.flags
        msg.message_reference = probe.message_reference
        msg.created_at = time.monotonic()
        if not msg.ephemeral:
            await self.emit("MESSAGE_CREATE", self.gateway_message(msg))
        await self.notify()
        return msg

    async def edit_message(self, msg: FakeMessage, body: Json, files: list[RecordedFile]) -> FakeMessage:
        if msg.deleted:
            raise unknown_message()
        self.apply_body(msg, body, files, creating=False)
        if not msg.ephemeral:
            await self.emit("MESSAGE_UPDATE", self.gateway_message(msg))
        await self.notify()
        return msg

    async def delete_message(self, msg: FakeMessage) -> None:
        if msg.deleted:
            raise unknown_message()
        msg.deleted = True
        if not msg.ephemeral:
            await self.emit(
                "MESSAGE_DELETE", {"id": str(msg.id), "channel_id": str(msg.channel_id), "guild_id": str(self.guild_id)}
            )
        await self.notify()

    def gateway_message(self, msg: FakeMessage) -> Json:
        payload = self.message_payload(msg)
        if msg.guild_id is None:  # a direct message: no member, and its content reaches the bot without the intent
            return payload
        payload["member"] = {k: v for k, v in msg.author.member_payload().items() if k != "user"}
        privileged = self.intents & (1 << 15)
        bot_id = self.bot_user.id
        if not privileged and msg.author.id != bot_id and bot_id not in msg.mentioned_user_ids():
            payload.update(content="", embeds=[], attachments=[], components=[])
        return payload

    def visible_messages(self, channel_id: int) -> list[FakeMessage]:
        return [m for m in self.messages_by_channel.get(channel_id, []) if not m.deleted]
