"""Fonts for the images corobot draws: the run timeline and the `/progress` card find theirs here.

The font must draw Chinese (task names, lesson titles and labels may carry it): the first of `FONTS` that is
installed — Debian's `fonts-wqy-microhei`, which `.ci/run` installs, or `fonts-noto-cjk` — never downloaded.
Without one, Pillow's built-in font draws Latin text only, and a warning says which package to install.
`fonts-wqy-microhei` also holds a monospaced face (index 1), used for program text.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

log = logging.getLogger(__name__)

FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
MONO_INDEX = {"wqy-microhei.ttc": 1, "wqy-zenhei.ttc": 1}  # the monospaced face inside each collection
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=1)
def font_path() -> Path | None:
    """The first CJK-capable font installed, or None (logged once)."""
    found = next((path for path in FONTS if path.is_file()), None)
    if found is None:
        tried = ", ".join(str(p) for p in FONTS)
        log.warning("no CJK font found (%s): images draw Latin text only; install fonts-wqy-microhei", tried)
    return found


@lru_cache(maxsize=32)
def font(size: int, *, mono: bool = False) -> Font:
    """The font at `size` pixels; `mono` picks the collection's monospaced face where it has one."""
    path = font_path()
    if path is None:
        return ImageFont.load_default(size)
    index = MONO_INDEX.get(path.name, 0) if mono else 0
    return ImageFont.truetype(str(path), size, index=index)
