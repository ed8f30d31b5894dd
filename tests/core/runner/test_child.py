"""The harness's loop selector: select(2) (microsecond timeouts) while the run's file limit allows it."""

from __future__ import annotations

import resource
import selectors

import pytest

from bot.core.runner import child


@pytest.mark.parametrize(
    ("limit", "kind"),
    [(64, selectors.SelectSelector), (1024, selectors.SelectSelector), (4096, selectors.EpollSelector),
     (resource.RLIM_INFINITY, selectors.EpollSelector)],
)  # fmt: skip
def test_selector_follows_the_file_limit(monkeypatch: pytest.MonkeyPatch, limit: int, kind: type) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda which: (limit, limit))
    selector = child._selector()
    try:
        assert isinstance(selector, kind)
    finally:
        selector.close()


def test_waits_are_capped() -> None:
    selector = child._selector()
    try:
        assert selector.select(None) == []  # returns after WAIT_CAP instead of blocking forever
    finally:
        selector.close()
