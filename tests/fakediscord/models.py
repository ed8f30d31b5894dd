"""State kept by the emulator: users, roles, channels, messages, interactions, recorded requests.

Everything here is plain data plus the helpers that turn it into Discord JSON payloads.
"""

# ruff: noqa: ASYNC109  (``timeout=`` parameters are part of the documented test API)

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Json = dict[str, Any]

DISCORD_EPOCH_MS = 1420070400000

# Permission bits (https://discord.com/developers/docs/topics/permissions)
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
    | EMBED_LINKS
    | ATTACH_FILES
    | ADD_REACTIONS
    | SEND_MESSAGES_IN_THREADS
    | CREATE_PUBLIC_THREADS
)
ADMIN_ROLE_PERMISSIONS = EVERYONE_PERMISSIONS | MANAGE_GUILD | MANAGE_MESSAGES | MANAGE_CHANNELS | MANAGE_THREADS
BOT_ROLE_PERMISSIONS = (
    EVERYONE_PERMISSIONS | CREATE_PRIVATE_THREADS | MANAGE_THREADS | MANAGE_MESSAGES | USE_EXTERNAL_EMOJIS
)

# Message flags
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12

# Gateway intents
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_MESSAGE_CONTENT = 1 << 15

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


def iso(ts: float | None = None) -> str:
    """ISO-8601 timestamp as Discord writes it."""
    moment = dt.datetime.fromtimestamp(time.time() if ts is None else ts, dt.UTC)
    return moment.isoformat()


class Snowflakes:
    """Generates increasing snowflake ids whose timestamps are the current time."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._last = 0

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (next(self._counter) & 0xFFF)
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False

    def to_payload(self) -> Json:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
            "icon": None,
            "unicode_emoji": None,
        }


@dataclass
class FakeUser:
    """A guild member. ``roles`` are role ids (the @everyone role is implicit)."""

    id: int
    name: str
    locale: str = "en-US"
    roles: list[int] = field(default_factory=list)
    bot: bool = False
    global_name: str | None = None
    joined_at: str = field(default_factory=iso)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def user_payload(self) -> Json:
        payload: Json = {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
        }
        if self.bot:
            payload["bot"] = True
        return payload

    def member_payload(self, *, permissions: int | None = None) -> Json:
        payload: Json = {
            "user": self.user_payload(),
            "roles": [str(r) for r in self.roles],
            "joined_at": self.joined_at,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
            "premium_since": None,
            "communication_disabled_until": None,
        }
        if permissions is not None:
            payload["permissions"] = str(permissions)
        return payload


@dataclass
class FakeChannel:
    id: int
    name: str
    guild_id: int | None  # None: a direct message channel
    type: int = 0  # 0 text, 1 direct message, 11 public thread, 12 private thread
    parent_id: int | None = None
    owner_id: int | None = None
    position: int = 0
    recipient: FakeUser | None = None  # a direct message channel's other end

    @property
    def is_thread(self) -> bool:
        return self.type in (10, 11, 12)

    @property
    def is_dm(self) -> bool:
        return self.type == 1

    def to_payload(self) -> Json:
        if self.recipient is not None:
            recipients = [self.recipient.user_payload()]
            return {"id": str(self.id), "type": 1, "recipients": recipients, "last_message_id": None, "flags": 0}
        payload: Json = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        if self.parent_id is not None:
            payload["parent_id"] = str(self.parent_id)
        if self.is_thread:
            payload.update(
                owner_id=str(self.owner_id),
                message_count=0,
                member_count=1,
                total_message_sent=0,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso(),
                    "locked": False,
                    "invitable": True,
                    "create_timestamp": iso(),
                },
            )
        return payload


@dataclass
class FakeAttachment:
    id: int
    filename: str
    data: bytes
    content_type: str | None
    url: str
    description: str | None = None

    def to_payload(self) -> Json:
        payload: Json = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
            "description": self.description,
        }
        if self.content_type:
            payload["content_type"] = self.content_type
        return payload


_MENTION_USER = re.compile(r"<@!?(\d+)>")
_MENTION_ROLE = re.compile(r"<@&(\d+)>")


@dataclass
class FakeMessage:
    """One message as a user would see it. ``history`` holds earlier versions (oldest first)."""

    id: int
    channel_id: int
    guild_id: int | None  # None in a direct message channel
    author: FakeUser
    content: str = ""
    embeds: list[Json] = field(default_factory=list)
    components: list[Json] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: Json | None = None
    message_reference: Json | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    timestamp: str = field(default_factory=iso)
    edited_timestamp: str | None = None
    created_at: float = field(default_factory=time.monotonic)
    history: list[Json] = field(default_factory=list)
    deleted: bool = False
    thread_id: int | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while this is a deferred "thinking…" message nobody has filled in yet."""
        return bool(self.flags & FLAG_LOADING)

    @property
    def edits(self) -> int:
        return len(self.history)

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in iter_components(self.components) if "custom_id" in c]

    def find_component(self, custom_id: str) -> Json | None:
        for comp in iter_components(self.components):
            if comp.get("custom_id") == custom_id:
                return comp
        return None

    def snapshot(self) -> Json:
        return {
            "content": self.content,
            "embeds": list(self.embeds),
            "components": list(self.components),
            "attachments": [a.filename for a in self.attachments],
            "flags": self.flags,
            "edited_timestamp": self.edited_timestamp,
        }

    def mentioned_user_ids(self) -> list[int]:
        """Users who would be pinged, applying ``allowed_mentions`` like Discord does."""
        ids = [int(m) for m in _MENTION_USER.findall(self.content)]
        am = self.allowed_mentions
        if am is None:
            return ids
        allowed_users = {int(u) for u in am.get("users", [])}
        if "users" in am.get("parse", []):
            return ids
        return [i for i in ids if i in allowed_users]

    def mentions_everyone(self) -> bool:
        if "@everyone" not in self.content and "@here" not in self.content:
            return False
        am = self.allowed_mentions
        return am is None or "everyone" in am.get("parse", [])

    def to_payload(self, users: dict[int, FakeUser] | None = None) -> Json:
        users = users or {}
        mentions = [users[i].user_payload() for i in self.mentioned_user_ids() if i in users]
        payload: Json = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.user_payload(),
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": False,
            "mention_everyone": self.mentions_everyone(),
            "mentions": mentions,
            "mention_roles": [],
            "attachments": [a.to_payload() for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "type": 19 if self.message_reference else 0,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            payload["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            payload["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            payload["application_id"] = str(self.application_id)
        if self.message_reference is not None:
            payload["message_reference"] = self.message_reference
        if self.interaction_id is not None and self.webhook_id is None:
            payload["type"] = 20
        if self.thread_id is not None:
            payload["position"] = 0
        return payload


def iter_components(components: list[Json]) -> list[Json]:
    """Flatten action rows / sections / labels / containers into a list of leaf-and-inner components."""
    out: list[Json] = []
    stack = list(reversed(components))
    while stack:
        comp = stack.pop()
        out.append(comp)
        children: list[Json] = list(comp.get("components", []))
        if isinstance(comp.get("component"), dict):
            children.append(comp["component"])
        if isinstance(comp.get("accessory"), dict):
            children.append(comp["accessory"])
        stack.extend(reversed(children))
    return out


@dataclass
class RecordedFile:
    field: str
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One HTTP request the emulator received, and the status it answered."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    time: float  # time.monotonic() on arrival
    status: int = 0
    response: Any = None
    authorized: bool = False

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} -> {self.status}>"


@dataclass
class FakeInteraction:
    """An interaction the emulator dispatched, and everything the bot did with it."""

    id: int
    token: str
    type: int  # 2 command, 3 component, 4 autocomplete, 5 modal submit
    user: FakeUser
    channel_id: int
    payload: Json
    dispatched_at: float = field(default_factory=time.monotonic)
    response_type: int | None = None  # the callback type the bot used
    response_data: Json | None = None  # the callback's ``data`` as sent
    responded_at: float | None = None
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    choices: list[Json] | None = None  # autocomplete result
    modal: Json | None = None  # modal the bot opened
    expired: bool = False
    component_message: FakeMessage | None = None
    responded: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def response(self) -> Json | None:
        """``{"type": ..., "data": ...}`` of the interaction callback, or None before the bot answered."""
        if self.response_type is None:
            return None
        return {"type": self.response_type, "data": self.response_data}

    @property
    def deferred(self) -> bool:
        return self.response_type in (5, 6)

    @property
    def messages(self) -> list[FakeMessage]:
        """The original response (if any) and then every follow-up, in order."""
        first = [self.original] if self.original is not None else []
        return first + self.followups

    async def wait_response(self, timeout: float = 10.0) -> Json:
        """Wait until the bot answered the interaction callback; return :attr:`response`."""
        try:
            await asyncio.wait_for(self.responded.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"bot did not answer interaction {self.id} (type {self.type}) in {timeout}s") from None
        assert self.response is not None
        return self.response
