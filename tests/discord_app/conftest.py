"""Fixtures of the Discord tests: a real corobot bot against the fakediscord emulator (see `env.py`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.discord_app import env as environment


@pytest.fixture
def make_env(tmp_path: Path) -> Callable[..., contextlib.AbstractAsyncContextManager[environment.Env]]:
    """`async with make_env(**overrides) as env:` a running bot over the test lessons."""

    def factory(**options: Any) -> contextlib.AbstractAsyncContextManager[environment.Env]:
        return environment.bot_env(tmp_path, **options)

    return factory


@pytest.fixture
def quiz_env(tmp_path: Path) -> Callable[..., contextlib.AbstractAsyncContextManager[environment.QuizEnv]]:
    """`async with quiz_env(window=2.0) as env:` a running, restartable bot with the quiz lesson and a database."""

    def factory(**options: Any) -> contextlib.AbstractAsyncContextManager[environment.QuizEnv]:
        return environment.quiz_env(tmp_path, **options)

    return factory
