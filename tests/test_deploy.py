"""deploy/: what can be checked without a container engine (none is installed here): the compose file's structure
and every corobot setting it passes, the Containerfile's instructions and the paths it copies."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "deploy" / "compose.yaml"
CONTAINERFILE = ROOT / "deploy" / "Containerfile"


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment with ${VAR:?...} filled in as compose would (a placeholder value)."""
    env = {k: str(v) for k, v in (service.get("environment") or {}).items()}
    return {k: re.sub(r"\$\{(\w+)(:\?[^}]*)?\}", r"example-\1", v) for k, v in env.items()}


def test_the_services_of_the_topology() -> None:
    services = compose()["services"]
    assert {"redis", "postgres", "bot-0", "bot-1", "node"} <= set(services)
    bots = [s for s in services.values() if s.get("command") == ["discord"]]
    shards = [environment(b) for b in bots]
    counts = {int(e["COROBOT_DISCORD__SHARD_COUNT"]) for e in shards}
    assert counts == {len(bots)}  # every shard is some bot's, once
    assert sorted(i for e in shards for i in yaml.safe_load(e["COROBOT_DISCORD__SHARD_IDS"])) == list(range(len(bots)))
    node = services["node"]
    assert node["command"] == ["runner-node"] and node["deploy"]["replicas"] >= 2
    assert node.get("privileged") is True or "SYS_ADMIN" in node.get("cap_add", [])
    for bot in bots:  # no example code runs in a bot process: no privileges
        assert not bot.get("privileged") and bot["cap_drop"] == ["ALL"] and bot["user"] == "corobot"
        assert "DISCORD_TOKEN" in bot["environment"]
    assert "DISCORD_TOKEN" not in node["environment"]  # a runner node never sees the token
    for name in ("bot-0", "node"):
        depends = services[name]["depends_on"]
        assert depends["redis"]["condition"] == depends["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["bot-0", "bot-1", "node"])
def test_every_setting_compose_passes_is_a_valid_corobot_setting(name: str, caplog: pytest.LogCaptureFixture) -> None:
    env = environment(compose()["services"][name])
    with caplog.at_level(logging.WARNING, logger="bot.config"):
        settings = load_settings(None, environ=env)
    assert not caplog.records, "a COROBOT_* variable that is not a setting"
    assert settings.cluster.redis_url == "redis://redis:6379/0"
    assert settings.storage.url is not None and settings.storage.url.startswith("postgresql://corobot:")
    assert settings.ops.listen == "0.0.0.0:9464"


def test_the_containerfile() -> None:
    text = CONTAINERFILE.read_text(encoding="utf-8")
    instructions = [line.split()[0] for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    known = {"FROM", "RUN", "WORKDIR", "COPY", "ENV", "VOLUME", "EXPOSE", "ENTRYPOINT", "CMD", "USER", "ARG"}
    assert instructions[0] == "FROM" and set(instructions) <= known
    assert "bubblewrap" in text and "libseccomp2" in text
    assert 'ENTRYPOINT ["corobot"]' in text
    for line in text.splitlines():
        if line.startswith("COPY "):
            *sources, _target = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), f"the Containerfile copies {source}, which is not in the repository"
    exposed = re.search(r"EXPOSE (\d+)", text)
    assert exposed is not None and compose()["x-environment"]["COROBOT_OPS__LISTEN"].endswith(exposed.group(1))


def test_every_package_is_installed_by_pip() -> None:
    """The image installs corobot with `pip install .` (setuptools finds packages by their __init__.py): a folder
    of modules without one would be missing from the image while working in a checkout."""
    folders = {path.parent for path in (ROOT / "bot").rglob("*.py")}
    missing = sorted(str(folder.relative_to(ROOT)) for folder in folders if not (folder / "__init__.py").exists())
    assert not missing, f"no __init__.py in {missing}"
