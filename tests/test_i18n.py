"""One bilingual mechanism for the harness's own text (issue 13 §4): ``{"en": ..., "zh": ...}`` per
text, read with ``verlings.i18n.say``. Inline ``"…" if lang == "zh" else "…"`` choices are the old
form; this test keeps them from spreading (the ones left are listed in CONTRIBUTING)."""

from __future__ import annotations

import re

from verlings.i18n import say
from verlings.paths import ROOT

INLINE = re.compile(r'if (?:self\.)?lang == "zh" else')
# file -> inline choices still there, and why (each is a conversion left to do, or not text)
LEFT = {
    "verlings/chapters.py": 2,  # Hint.text (a chapter.toml hint's own en/zh fields) and the lesson's file name
    "verlings/report.py": 1,  # words(): report.WORDS is laid out {lang: {key: text}}
}


def test_say_falls_back_to_english():
    assert say({"en": "progress", "zh": "进度"}, "zh") == "进度"
    assert say({"en": "progress"}, "zh") == "progress"
    assert say({"en": "progress", "zh": "进度"}, "fr") == "progress"


def test_no_new_inline_language_choices():
    found = {}
    for path in sorted((ROOT / "verlings").rglob("*.py")):
        n = len(INLINE.findall(path.read_text(encoding="utf-8")))
        if n:
            found[str(path.relative_to(ROOT))] = n
    grown = {f: n for f, n in found.items() if n > LEFT.get(f, 0)}
    assert not grown, (
        f'inline `if lang == "zh" else` choices (use a {{"en": ..., "zh": ...}} mapping and verlings.i18n.say): {grown}'
    )
