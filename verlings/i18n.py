"""The course's one bilingual mechanism for its own text: a ``{"en": ..., "zh": ...}`` mapping per
text, the same shape as chapter.toml's tables (titles, hints, objectives), looked up with ``say``.

The one other form, on purpose: why-lines that graded tests write at run time are English, and
``verlings/messages_zh.py`` maps each exact English line to its Chinese (a catalogue keyed by the
source text, as gettext does), so a test author writes one language. ``tests/test_i18n.py``
fails on any third form (an inline ``if lang == "zh"``, a table laid out by language first).
"""

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("en", "zh")


def say(texts: Mapping[str, str], lang: str) -> str:
    """``texts[lang]``, English where that language is missing."""
    return texts.get(lang) or texts["en"]
