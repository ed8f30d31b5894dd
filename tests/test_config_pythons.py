"""`runner.pythons`: auto by default, a list of versions and paths, from the file or the environment; a bad entry
is an error naming its line (or its variable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.core.errors import ConfigError


def test_pythons_default_to_auto_and_reach_the_runner_limits() -> None:
    settings = load_settings(None, environ={})
    assert settings.runner.pythons == "auto" and settings.runner.limits().pythons == "auto"


def test_a_list_from_the_file_or_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text('runner:\n  pythons: ["3.12", "/opt/python3.14/bin/python3.14"]\n', encoding="utf-8")
    assert load_settings(path, environ={}).runner.limits().pythons == ("3.12", "/opt/python3.14/bin/python3.14")
    from_env = load_settings(None, environ={"COROBOT_RUNNER__PYTHONS": '["python3.13"]'})
    assert from_env.runner.limits().pythons == ("python3.13",)
    assert load_settings(None, environ={"COROBOT_RUNNER__PYTHONS": "[]"}).runner.limits().pythons == ()
    assert load_settings(None, environ={"COROBOT_RUNNER__PYTHONS": "auto"}).runner.pythons == "auto"


def test_an_entry_that_is_neither_a_version_nor_a_path_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("runner:\n  pythons:\n    - '3.12'\n    - latest\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(path, environ={})
    assert f"{path}:4:7: runner.pythons.1: 'latest' is neither a version (3.12) nor the absolute path of an " in str(
        raised.value
    )
    with pytest.raises(ConfigError, match="COROBOT_RUNNER__PYTHONS"):
        load_settings(None, environ={"COROBOT_RUNNER__PYTHONS": '["3.12", "python"]'})
