"""Interactions: building INTERACTION_CREATE payloads, the callback route, and webhook follow-ups."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from .models import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FakeChannel,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
    Json,
    iter_components,
)
from .rest import Call, Result, Route, route
from .state import ApiError, World, form_error, unknown_message

log = logging.getLogger(__name__)

SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10

# Which callback types Discord accepts for each interaction type.
ALLOWED_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


def unknown_interaction() -> ApiError:
    return ApiError(404, 10062, "Unknown interaction")


def invalid_webhook_token() -> ApiError:
    return ApiError(401, 50027, "Invalid Webhook Token")


class Interactions:
    """Creates interactions for the test API and serves the routes the bot answers them on."""

    def __init__(self, world: World, *, response_deadline: float | None = 3.0) -> None:
        self.world = world
        self.response_deadline = response_deadline

    # ---- building interactions -------------------------------------------------------------------
    def new(
        self, user: FakeUser, type: int, data: Json, *, channel_id: int, message: FakeMessage | None = None
    ) -> FakeInteraction:
        w = self.world
        channel = w.channel(channel_id)
        iid = w.ids.next()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        channel_payload = channel.to_payload()
        channel_payload["permissions"] = str(w.permissions_of(user))
        payload: Json = {
            "id": str(iid),
            "application_id": str(w.application_id),
            "type": type,
            "token": token,
            "version": 1,
            "guild_id": str(w.guild_id),
            "guild": {"id": str(w.guild_id), "locale": "en-US", "features": []},
            "channel_id": str(channel.id),
            "channel": channel_payload,
            "member": user.member_payload(permissions=w.permissions_of(user)),
            "locale": user.locale,
            "guild_locale": "en-US",
            "app_permissions": str(w.permissions_of(w.bot_user)),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(w.guild_id)},
            "context": 0,
            "attachment_size_limit": w.attachment_size_limit,
            "data": data,
        }
        if channel.is_dm:  # a component in a direct message: no guild, the user instead of a member
            for key in ("guild_id", "guild", "member", "guild_locale"):
                payload.pop(key)
            payload.update(user=user.user_payload(), context=1, authorizing_integration_owners={"1": str(user.id)})
            del payload["channel"]["permissions"]
        if message is not None:
            payload["message"] = w.message_payload(message)
        ix = FakeInteraction(
            id=iid, token=token, type=type, user=user, channel_id=channel.id, payload=payload, component_message=message
        )
        w.interactions[iid] = ix
        w.interactions_by_token[token] = ix
        return ix

    def find_command(self, name: str, *, type: int = 1) -> Json:
        w = self.world
        for scope in (w.guild_id, None):
            for cmd in w.commands.get(scope, []):
                if cmd["name"] == name and int(cmd.get("type", 1)) == type:
                    return cmd
        known = sorted(c["name"] for cmds in w.commands.values() for c in cmds)
        raise LookupError(f"command {name!r} is not registered (did the bot sync its tree?); registered: {known}")

    def check_visible(self, cmd: Json, user: FakeUser) -> None:
        needed = cmd.get("default_member_permissions")
        if needed is not None and int(needed) & ~self.world.permissions_of(user):
            raise PermissionError(f"{user.name} cannot see /{cmd['name']}: needs permissions {needed}")

    def command_data(
        self,
        cmd: Json,
        user: FakeUser,
        values: dict[str, Any],
        *,
        subcommand: str | None,
        focused: str | None = None,
    ) -> Json:
        defs: list[Json] = cmd.get("options") or []
        resolved: Json = {}
        leaf_options = self._build_options(defs_for(cmd, subcommand), values, resolved, focused=focused)
        options = leaf_options
        if subcommand:
            path = subcommand.split()
            current_defs = defs
            nested: list[tuple[str, int]] = []
            for part in path:
                sub = next((d for d in current_defs if d["name"] == part and d["type"] in (1, 2)), None)
                if sub is None:
                    raise ValueError(f"/{cmd['name']} has no subcommand {part!r}")
                nested.append((part, sub["type"]))
                current_defs = sub.get("options") or []
            for part, kind in reversed(nested):
                options = [{"name": part, "type": kind, "options": options}]
        data: Json = {"id": cmd["id"], "name": cmd["name"], "type": int(cmd.get("type", 1)), "options": options}
        if "guild_id" in cmd:
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    def _build_options(
        self, defs: list[Json], values: dict[str, Any], resolved: Json, *, focused: str | None
    ) -> list[Json]:
        out: list[Json] = []
        by_name = {d["name"]: d for d in defs}
        for name, value in values.items():
            d = by_name.get(name)
            if d is None:
                raise ValueError(f"no option {name!r}; options are {sorted(by_name)}")
            if name == focused:
                if not d.get("autocomplete"):
                    raise ValueError(f"option {name!r} does not have autocomplete enabled")
                out.append({"name": name, "type": d["type"], "value": str(value), "focused": True})
                continue
            out.append({"name": name, "type": d["type"], "value": self._option_value(d, value, resolved)})
        if focused is None:
            missing = [d["name"] for d in defs if d.get("required") and d["name"] not in values]
            if missing:
                raise ValueError(f"required options missing: {missing}")
        elif focused not in values:
            raise ValueError(f"focused option {focused!r} needs a (partial) value")
        return out

    def _option_value(self, d: Json, value: Any, resolved: Json) -> Any:
        w = self.world
        t = d["type"]
        choices = d.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"{value!r} is not one of the choices of {d['name']!r}")
        if t == STRING:
            return str(value)
        if t == INTEGER:
            return int(value)
        if t == NUMBER:
            return float(value)
        if t == BOOLEAN:
            return bool(value)
        if t in (USER, MENTIONABLE) and isinstance(value, FakeUser):
            member = value.member_payload(permissions=w.permissions_of(value))
            member.pop("user")
            resolved.setdefault("users", {})[str(value.id)] = value.user_payload()
            resolved.setdefault("members", {})[str(value.id)] = member
            return str(value.id)
        if t == CHANNEL and isinstance(value, FakeChannel):
            ch = {
                "id": str(value.id),
                "name": value.name,
                "type": value.type,
                "permissions": str(w.permissions_of(w.bot_user)),
            }
            if value.parent_id is not None:
                ch.update(parent_id=str(value.parent_id), thread_metadata=value.to_payload()["thread_metadata"])
            resolved.setdefault("channels", {})[str(value.id)] = ch
            return str(value.id)
        if t in (ROLE, MENTIONABLE) and isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[str(value.id)] = value.to_payload()
            return str(value.id)
        raise ValueError(f"option {d['name']!r} of type {t}: unsupported value {value!r}")

    def component_data(self, message: FakeMessage, custom_id: str, values: list[str] | None) -> Json:
        comp = message.find_component(custom_id)
        if comp is None:
            raise ValueError(f"message {message.id} has no component {custom_id!r}; it has {message.custom_ids()}")
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        data: Json = {"custom_id": custom_id, "component_type": comp["type"]}
        if comp["type"] != 2:
            data["values"] = list(values or [])
            allowed = {o["value"] for o in comp.get("options", [])}
            if comp["type"] == 3 and not set(data["values"]) <= allowed:
                raise ValueError(f"{values} are not options of select {custom_id!r}: {sorted(allowed)}")
        elif values:
            raise ValueError("a button click takes no values")
        return data

    def modal_data(self, modal: Json, values: dict[str, Any]) -> Json:
        rows: list[Json] = []
        seen: set[str] = set()

        def leaf(comp: Json) -> Json:
            cid = comp["custom_id"]
            seen.add(cid)
            if comp["type"] == 4:
                value = str(values.get(cid, comp.get("value") or ""))
                if comp.get("required", True) and not value:
                    raise ValueError(f"modal field {cid!r} is required")
                return {"type": 4, "custom_id": cid, "value": value}
            return {"type": comp["type"], "custom_id": cid, "values": list(values.get(cid, []))}

        for top in modal.get("components", []):
            if top["type"] == 1:
                rows.append({"type": 1, "components": [leaf(c) for c in top.get("components", []) if "custom_id" in c]})
            elif top["type"] == 18:
                rows.append({"type": 18, "id": top.get("id", 0), "component": leaf(top["component"])})
        unknown = set(values) - seen
        if unknown:
            raise ValueError(f"modal has no fields {sorted(unknown)}")
        return {"custom_id": modal["custom_id"], "components": rows}

    # ---- routes ----------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        return [
            route("POST", "/interactions/{iid}/{token}/callback", self.callback, bot_auth=False),
            route("POST", "/webhooks/{app}/{token}", self.followup, bot_auth=False),
            route("GET", "/webhooks/{app}/{token}/messages/{message}", self.get_webhook_message, bot_auth=False),
            route("PATCH", "/webhooks/{app}/{token}/messages/{message}", self.edit_webhook_message, bot_auth=False),
            route("DELETE", "/webhooks/{app}/{token}/messages/{message}", self.delete_webhook_message, bot_auth=False),
        ]

    async def callback(self, call: Call) -> Result:
        w = self.world
        ix = w.interactions.get(call.int_param("iid"))
        if ix is None or ix.token != call.params["token"] or ix.expired:
            raise unknown_interaction()
        if ix.response_type is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if self.response_deadline is not None and time.monotonic() - ix.dispatched_at > self.response_deadline:
            raise unknown_interaction()
        body = call.body()
        ctype = int(body.get("type", 0))
        data: Json = body.get("data") or {}
        if ctype not in ALLOWED_CALLBACKS[ix.type] or (ctype in (6, 7) and ix.component_message is None):
            raise form_error("type", "INTERACTION_RESPONSE_TYPE_INVALID", f"callback type {ctype} invalid here")
        resource: Json = {"type": ctype}
        if ctype == 4:
            ix.original = await w.create_message(
                ix.channel_id, w.bot_user, data, call.files, interaction_id=ix.id, application_id=w.application_id
            )
            resource["message"] = w.message_payload(ix.original)
        elif ctype == 5:
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            msg = w.new_message(
                ix.channel_id, w.bot_user, flags=flags, interaction_id=ix.id, application_id=w.application_id
            )
            if not msg.ephemeral:
                await w.emit("MESSAGE_CREATE", w.gateway_message(msg))
            ix.original = msg
            resource["message"] = w.message_payload(msg)
        elif ctype in (6, 7):
            assert ix.component_message is not None
            ix.original = ix.component_message
            if ctype == 7:
                await w.edit_message(ix.original, data, call.files)
                resource["message"] = w.message_payload(ix.original)
        elif ctype == 8:
            choices = list(data.get("choices") or [])
            if len(choices) > 25:
                raise form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            ix.choices = choices
        elif ctype == 9:
            if not data.get("custom_id") or not data.get("title") or not data.get("components"):
                raise form_error("data", "BASE_TYPE_REQUIRED", "custom_id, title and components are required")
            ix.modal = data
        ix.response_type, ix.response_data, ix.responded_at = ctype, data, time.monotonic()
        ix.responded.set()
        await w.notify()
        if call.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        info: Json = {"id": str(ix.id), "type": ix.type}
        if ix.original is not None and ctype in (4, 5, 7):
            info.update(
                response_message_id=str(ix.original.id),
                response_message_loading=ctype == 5,
                response_message_ephemeral=ix.original.ephemeral,
            )
        return 200, {"interaction": info, "resource": resource}

    def _webhook_interaction(self, call: Call) -> FakeInteraction:
        if call.params["app"] != str(self.world.application_id):
            raise ApiError(404, 10015, "Unknown Webhook")
        ix = self.world.interactions_by_token.get(call.params["token"])
        if ix is None or ix.expired:
            raise invalid_webhook_token()
        return ix

    def _webhook_message(self, ix: FakeInteraction, message: str) -> FakeMessage:
        if message == "@original":
            if ix.original is None or ix.original.deleted:
                raise unknown_message()
            return ix.original
        for msg in ix.messages:
            if str(msg.id) == message and not msg.deleted:
                return msg
        raise unknown_message()

    async def followup(self, call: Call) -> Result:
        w = self.world
        ix = self._webhook_interaction(call)
        if ix.response_type is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        original = ix.original
        if original is not None and original.loading and ix.response_type == 5:
            # Discord: the first follow-up after a deferred "thinking" response fills in that message.
            await w.edit_message(original, call.body(), call.files)
            msg = original
        else:
            msg = await w.create_message(
                ix.channel_id,
                w.bot_user,
                call.body(),
                call.files,
                webhook_id=w.application_id,
                application_id=w.application_id,
                interaction_id=ix.id,
            )
            ix.followups.append(msg)
        await w.notify()
        if call.query.get("wait") in ("1", "true", "True"):
            return 200, w.message_payload(msg)
        return 204, None

    async def get_webhook_message(self, call: Call) -> Result:
        ix = self._webhook_interaction(call)
        return 200, self.world.message_payload(self._webhook_message(ix, call.params["message"]))

    async def edit_webhook_message(self, call: Call) -> Result:
        ix = self._webhook_interaction(call)
        msg = self._webhook_message(ix, call.params["message"])
        await self.world.edit_message(msg, call.body(), call.files)
        return 200, self.world.message_payload(msg)

    async def delete_webhook_message(self, call: Call) -> Result:
        ix = self._webhook_interaction(call)
        await self.world.delete_message(self._webhook_message(ix, call.params["message"]))
        return 204, None


def defs_for(cmd: Json, subcommand: str | None) -> list[Json]:
    """The option definitions of ``cmd`` or of its (space-separated) ``subcommand`` path."""
    defs: list[Json] = cmd.get("options") or []
    for part in (subcommand or "").split():
        sub = next((d for d in defs if d["name"] == part and d["type"] in (1, 2)), None)
        if sub is None:
            raise ValueError(f"/{cmd['name']} has no subcommand {part!r}")
        defs = sub.get("options") or []
    return defs


def component_types(message: FakeMessage) -> dict[str, int]:
    return {c["custom_id"]: c["type"] for c in iter_components(message.components) if "custom_id" in c}
