"""What a bot process knows of the cluster from its last look: live nodes, slots, queue, and the Python
versions every live node offers (nodes advertise their `Pythons` in their heartbeat, as JSON)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.core.versions import Pythons, sort_versions

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ClusterView:
    nodes: dict[str, float] = field(default_factory=dict)  # live node -> seconds since its heartbeat
    capacity: int = 0
    queue_depth: int = 0
    running: int = 0
    pythons: Pythons | None = None  # None: no live node said
    seen_at: float = 0.0  # monotonic; 0 = never


def pythons_to_json(pythons: Pythons) -> str:
    return json.dumps({"default": pythons.default, "releases": [list(pair) for pair in pythons.releases]})


def pythons_from_json(raw: Any) -> Pythons | None:
    """A node's advertised versions; None for anything malformed (a node's words are checked like any other)."""
    try:
        data = json.loads(raw) if isinstance(raw, str) and len(raw) < 4096 else {}
        default, releases = data["default"], data["releases"]
        pairs = tuple((str(v), str(r)) for v, r in releases if isinstance(v, str) and isinstance(r, str))
        if not isinstance(default, str) or not pairs or len(pairs) > 20:
            return None
        return Pythons(default, pairs)
    except (ValueError, TypeError, KeyError):
        return None


def common_pythons(offers: list[Pythons]) -> Pythons | None:
    """The versions every live node offers (runner nodes are meant to be alike; a run may go to any of them),
    with the default most of them use."""
    if not offers:
        return None
    shared = set(offers[0].versions)
    for offer in offers[1:]:
        shared &= set(offer.versions)
    if not shared:
        log.warning("the runner nodes have no Python version in common; runs use the first node's default")
        return Pythons(offers[0].default, tuple(p for p in offers[0].releases if p[0] == offers[0].default))
    versions = sort_versions(shared)
    releases = tuple((v, offers[0].release(v)) for v in versions)
    defaults = Counter(o.default for o in offers if o.default in shared)
    default = defaults.most_common(1)[0][0] if defaults else versions[-1]
    return Pythons(default, releases)
