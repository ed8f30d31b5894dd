"""Who counts as a server admin for corobot: Manage Server, or one of the configured admin roles."""

from __future__ import annotations

from collections.abc import Iterable

import discord


def is_admin(interaction: discord.Interaction, admin_role_ids: Iterable[int]) -> bool:
    if interaction.permissions.manage_guild:
        return True
    user = interaction.user
    # `_roles` holds the member's role ids even when the guild's roles are not cached; `roles` needs them.
    role_ids = {int(x) for x in getattr(user, "_roles", ())}
    role_ids.update(role.id for role in getattr(user, "roles", ()))
    return bool(role_ids & set(admin_role_ids))
