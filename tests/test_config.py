"""Settings: defaults, COROBOT_* overrides, the token rule, and errors that name the line."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings, discord_token, load_settings
from bot.core.errors import ConfigError

SECRET = "MTAxNjk4.not-a-real-token.abcdef"
REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file_or_environment() -> None:
    settings = load_settings(None, environ={})
    assert settings == Settings()
    assert settings.runner.timeout_default == 10.0 and settings.runner.timeout_max == 60.0
    assert settings.runner.max_concurrent is None
    assert settings.runner.concurrency() == 8 * (os.cpu_count() or 1)
    assert settings.lessons_dir == Path("lessons") and settings.locale == "en"


def test_an_empty_file_means_defaults(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "# nothing set\n"), environ={}) == Settings()


def test_environment_overrides_nested_settings_and_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "runner:\n  max_concurrent: 10\n  per_user: 2\nlog_level: INFO\n")
    settings = load_settings(path, environ={"COROBOT_RUNNER__MAX_CONCURRENT": "3", "COROBOT_LOG_LEVEL": "DEBUG"})
    assert settings.runner.max_concurrent == 3
    assert settings.runner.concurrency() == 3
    assert settings.runner.per_user == 2  # untouched file value
    assert settings.log_level == "DEBUG"
    no_file = load_settings(None, environ={"COROBOT_RUNNER__MAX_CONCURRENT": "3", "UNRELATED": "x"})
    assert no_file.runner.max_concurrent == 3
    assert load_settings(None, environ={"COROBOT_DISCORD__ADMIN_ROLE_IDS": "[1, 2]"}).discord.admin_role_ids == [1, 2]


def test_a_token_in_the_yaml_is_refused_with_the_reason_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, f"locale: en\ndiscord:\n  dev_guild_id: 5\n  token: {SECRET}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert message.startswith(f"{path}:4: 'discord.token' looks like a Discord token.")
    assert "DISCORD_TOKEN" in message and "never lands in a file that gets shared or committed" in message
    assert SECRET not in message  # never echo the secret


def test_a_token_in_a_corobot_variable_is_refused() -> None:
    with pytest.raises(ConfigError, match="DISCORD_TOKEN") as caught:
        load_settings(None, environ={"COROBOT_DISCORD__TOKEN": SECRET})
    assert SECRET not in str(caught.value)


def test_the_token_comes_only_from_discord_token() -> None:
    assert discord_token({"DISCORD_TOKEN": f"  {SECRET}\n"}) == SECRET
    assert discord_token({"DISCORD_TOKEN": "  "}) is None
    assert discord_token({}) is None


def test_an_unknown_key_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "locale: en\nrunner:\n  timeout_default: 5\n  max_concurent: 3\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    message = str(caught.value)
    assert f"{path}:4:3: unknown key 'max_concurent' in runner" in message
    assert "did you mean 'max_concurrent'?" in message


def test_a_wrong_type_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "runner:\n  per_user: lots\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert f"{path}:2:13: runner.per_user: expected a whole number, got the string 'lots'" in str(caught.value)


def test_a_bad_environment_value_names_the_variable_not_a_file_line(tmp_path: Path) -> None:
    path = write(tmp_path, "runner:\n  per_user: 2\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={"COROBOT_RUNNER__MAX_CONCURRENT": "many"})
    message = str(caught.value)
    assert "COROBOT_RUNNER__MAX_CONCURRENT" in message
    assert f"{path}:" not in message


def test_timeout_default_above_timeout_max_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "runner:\n  timeout_default: 90\n  timeout_max: 30\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value) == f"{path}: runner.timeout_default (90.0) exceeds runner.timeout_max (30.0)"
    # also when the environment makes it so: the message names what set the values
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={"COROBOT_RUNNER__TIMEOUT_MAX": "5"})
    assert str(caught.value).startswith("COROBOT_RUNNER__TIMEOUT_MAX: runner.timeout_default (10.0) exceeds")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={"COROBOT_RUNNER__TIMEOUT_MAX": "20"})
    assert str(caught.value).startswith(f"{path} and COROBOT_RUNNER__TIMEOUT_MAX: runner.timeout_default (90.0)")


def test_unreadable_or_non_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "missing.yaml", environ={})
    with pytest.raises(ConfigError, match="the config must be a mapping of settings, got list"):
        load_settings(write(tmp_path, "- a\n- b\n"), environ={})
    with pytest.raises(ConfigError, match=r"config.yaml:2:1: invalid YAML"):
        load_settings(write(tmp_path, "a: [1\n"), environ={})


def test_an_unknown_corobot_variable_is_ignored_with_one_warning_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    environ = {
        "COROBOT_TEST_LAG_LIMIT": "0.1",  # another tool's variable with the same prefix
        "COROBOT_RUNNER_MAX_CONCURRENT": "4",  # a typo: one underscore
        "COROBOT_RUNNER__PER_USER": "3",
    }
    with caplog.at_level(logging.WARNING, logger="bot.config"):
        settings = load_settings(None, environ=environ)
    assert settings.runner.per_user == 3 and settings.runner.max_concurrent is None
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        "environment variable COROBOT_RUNNER_MAX_CONCURRENT is not a corobot setting; ignoring it "
        "(did you mean COROBOT_RUNNER__MAX_CONCURRENT?)",
        "environment variable COROBOT_TEST_LAG_LIMIT is not a corobot setting; ignoring it",
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.config"):
        load_settings(None, environ={"COROBOT_DISCORD__DEV_GUILD": "5", "COROBOT_RUNNER__NOPE__DEEP": "1"})
    assert [r.getMessage() for r in caplog.records] == [
        "environment variable COROBOT_DISCORD__DEV_GUILD is not a corobot setting; ignoring it "
        "(did you mean COROBOT_DISCORD__DEV_GUILD_ID?)",
        "environment variable COROBOT_RUNNER__NOPE__DEEP is not a corobot setting; ignoring it",
    ]


def test_a_known_variable_with_a_bad_value_still_stops_start_up() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={"COROBOT_LOG_LEVEL": "LOUD", "COROBOT_UNRELATED": "x"})
    message = str(caught.value)
    assert message.startswith("invalid COROBOT_* environment override: COROBOT_LOG_LEVEL: Input should be")
    assert "COROBOT_UNRELATED" not in message
    with pytest.raises(ConfigError, match="COROBOT_RUNNER: Input should be a valid dictionary"):
        load_settings(None, environ={"COROBOT_RUNNER": "fast"})  # a section takes a JSON object
    assert load_settings(None, environ={"COROBOT_RUNNER": '{"per_user": 2}'}).runner.per_user == 2
    assert load_settings(None, environ={"corobot_log_level": "DEBUG"}).log_level == "INFO"  # not our prefix
    assert load_settings(None, environ={"COROBOT_log_level": "DEBUG"}).log_level == "DEBUG"  # as before


def test_start_up_goes_on_with_an_unrelated_corobot_variable(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "one.yaml").write_text("id: one\ntitle: One\nexamples:\n  - id: e\n    code: print(1)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COROBOT_") and k != "DISCORD_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--lessons", str(lessons), "lessons", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO), "COROBOT_DATA_DIR": str(tmp_path / "data"), "COROBOT_DEPLOY_ID": "7"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("one  One")
    assert "environment variable COROBOT_DEPLOY_ID is not a corobot setting; ignoring it" in done.stderr


def test_a_hostile_config_file_is_refused_quickly_with_its_line(tmp_path: Path) -> None:
    levels = ['a0: &a0 "x"'] + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    path = write(tmp_path, "\n".join(levels) + "\n")
    with pytest.raises(ConfigError, match=rf"{path}:6:5: more than 50,000 values here"):
        load_settings(path, environ={})
