"""`/progress` as a card image (Pillow): lessons done, the streak, the review load and mastery per topic.

Rendering is CPU work (~10-20 ms), so the cog runs `render` in a thread (`asyncio.to_thread`), never on the
event loop; `CardCache` keeps the PNG of each distinct card (the card's data is its key), so a member who asks
again before anything changed gets the same bytes without rendering.  The text version of the same numbers is
the message's content and the image's description (alt text), for screen readers.

The font must draw Chinese: `bot.core.fonts` finds it (Debian's `fonts-wqy-microhei`, which `.ci/run`
installs, or `fonts-noto-cjk`; the run timeline's image uses the same), never downloaded; without one, Pillow's
built-in font draws Latin text only and a warning says which package to install.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.core.fonts import font

SIZE = (800, 450)
BACKGROUND, PANEL, TEXT, MUTED = (24, 26, 33), (37, 40, 50), (235, 237, 242), (150, 156, 170)
ACCENT, GOOD, WARN = (88, 101, 242), (67, 181, 129), (250, 166, 26)


@dataclass(frozen=True, slots=True)
class CardData:
    """Everything a card shows, already in the member's language (labels included): also its cache key."""

    title: str
    lessons_label: str
    lessons_done: int
    lessons_total: int
    streak_label: str
    streak: int
    best_label: str
    reviews_label: str
    due: int
    next_label: str  # when the next card comes due, or "" (already worded)
    topics_label: str
    topics: tuple[tuple[str, float], ...]  # (topic, mastery 0-1), weakest first


def render(data: CardData) -> bytes:
    """The card as PNG bytes (pure and thread-safe: called through `asyncio.to_thread`)."""
    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    width = SIZE[0]
    draw.text((32, 24), data.title, font=font(34), fill=TEXT)
    boxes = [
        (data.lessons_label, f"{data.lessons_done}/{data.lessons_total}", ACCENT),
        (data.streak_label, f"{data.streak}", WARN),
        (data.reviews_label, f"{data.due}", GOOD),
    ]
    box_width = (width - 32 * 2 - 16 * 2) // 3
    for i, (label, value, colour) in enumerate(boxes):
        left = 32 + i * (box_width + 16)
        draw.rounded_rectangle((left, 84, left + box_width, 204), radius=14, fill=PANEL)
        draw.text((left + 18, 96), label, font=font(20), fill=MUTED)
        draw.text((left + 18, 124), value, font=font(52), fill=colour)
    draw.text((32 + box_width + 16 + 18, 210), data.best_label, font=font(16), fill=MUTED)
    if data.next_label:
        draw.text((32 + 2 * (box_width + 16) + 18, 210), data.next_label, font=font(16), fill=MUTED)
    draw.text((32, 246), data.topics_label, font=font(22), fill=TEXT)
    bar_left, bar_right = 260, width - 90
    for row, (topic, share) in enumerate(data.topics[:5]):
        top = 284 + row * 32
        draw.text((32, top), topic[:24], font=font(18), fill=MUTED)
        draw.rounded_rectangle((bar_left, top + 4, bar_right, top + 22), radius=8, fill=PANEL)
        filled = bar_left + int((bar_right - bar_left) * max(0.0, min(1.0, share)))
        if filled > bar_left + 8:
            draw.rounded_rectangle((bar_left, top + 4, filled, top + 22), radius=8, fill=GOOD if share >= 0.8 else WARN)
        draw.text((bar_right + 12, top), f"{share:.0%}", font=font(18), fill=TEXT)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class CardCache:
    """PNG bytes by card data, most recent `size` cards; `renders` counts the cards actually drawn."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.renders = 0
        self._cards: OrderedDict[CardData, bytes] = OrderedDict()

    def get(self, data: CardData) -> bytes | None:
        found = self._cards.get(data)
        if found is not None:
            self._cards.move_to_end(data)
        return found

    def put(self, data: CardData, png: bytes) -> None:
        self.renders += 1
        self._cards[data] = png
        while len(self._cards) > self.size:
            self._cards.popitem(last=False)
