"""One bilingual mechanism for the harness's own text (issue 13 §4): ``{"en": ..., "zh": ...}`` per
text, read with ``verlings.i18n.say``; why-lines that graded tests write at run time are English
and ``verlings/messages_zh.py`` is their Chinese, keyed by the English (``verlings.messages.translate``).

``test_one_bilingual_mechanism`` reads the package's syntax trees and fails on any other form: an
inline choice on the language (``"…" if lang == "zh" else "…"``), a table laid out language-first
(``{"en": {...}, "zh": {...}}``), a second English-to-Chinese table, or a class with ``en``/``zh``
fields. ``test_the_checker_finds_each_old_form`` feeds it the forms the course used before."""

from __future__ import annotations

import ast
import re

from verlings.i18n import LANGS, say
from verlings.paths import ROOT

# The catalogue: translate() chooses on the language once, for every why-line; messages_zh.py is
# the English-keyed table itself.
CATALOGUE = {"verlings/messages.py", "verlings/messages_zh.py"}
# Classes allowed en/zh fields, and why.
PAIR_CLASSES = {
    "verlings/chapters.py:Hint",  # a chapter.toml [[exercises.hints]] entry as written there; text() reads it with say
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def other_forms(source: str, where: str) -> list[str]:
    """Every place in ``source`` that handles the two languages other than through ``say``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = f"{where}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Compare):
            # a language as an operand, alone or in a tuple/list/set (a subscript like TEXT[k]["en"] reads a mapping)
            operands = [node.left, *node.comparators]
            operands += [e for o in operands if isinstance(o, (ast.Tuple, ast.List, ast.Set)) for e in o.elts]
            if any(_str(n) in LANGS for n in operands):
                found.append(f"{line}: a comparison with a language (use a {{'en': ..., 'zh': ...}} mapping and say)")
        elif isinstance(node, ast.Dict):
            keys = [_str(k) for k in node.keys]
            if set(keys) == set(LANGS) and any(isinstance(v, ast.Dict) for v in node.values):
                found.append(f"{line}: a table laid out {{lang: {{key: text}}}} (lay it out {{key: {{lang: text}}}})")
            values = [_str(v) for v in node.values]
            pairs = [(k, v) for k, v in zip(keys, values) if k is not None and v is not None]
            translations = [k for k, v in pairs if k not in LANGS and not CJK.search(k) and CJK.search(v)]
            if len(translations) >= 2:
                found.append(f"{line}: a table of English → Chinese lines (add them to verlings/messages_zh.py)")
        elif isinstance(node, ast.ClassDef):
            fields = {t.target.id for t in node.body if isinstance(t, ast.AnnAssign) and isinstance(t.target, ast.Name)}
            if set(LANGS) <= fields and f"{where}:{node.name}" not in PAIR_CLASSES:
                found.append(f"{line}: class {node.name} holds en/zh fields (use a {{'en': ..., 'zh': ...}} mapping)")
    return found


def test_say_falls_back_to_english():
    assert say({"en": "progress", "zh": "进度"}, "zh") == "进度"
    assert say({"en": "progress"}, "zh") == "progress"
    assert say({"en": "progress", "zh": "进度"}, "fr") == "progress"


def test_one_bilingual_mechanism():
    found = []
    for path in sorted((ROOT / "verlings").rglob("*.py")):
        where = str(path.relative_to(ROOT))
        if where not in CATALOGUE:
            found += other_forms(path.read_text(encoding="utf-8"), where)
    assert not found, "text in two languages outside verlings.i18n.say / the messages catalogue:\n  " + "\n  ".join(
        found
    )


def test_the_checker_finds_each_old_form():
    # The forms the course had before (issue 13 §4): report.WORDS, the inline choices of list/cli/
    # chapters, messages.ZH beside messages_zh, messages.Cause and doctor's (en, zh) pairs.
    old = {
        "inline": 'label = "进度" if lang == "zh" else "progress"\n',
        "negated": 'if lang != "zh":\n    pass\n',
        "membership": 'ok = lang in ("zh",)\n',
        "lang-first table": 'WORDS = {"en": {"total": "Total"}, "zh": {"total": "总分"}}\n',
        "second table": 'ZH = {"a line": "一行", "another line": "另一行"}\n',
        "pair class": "class Cause:\n    en: str\n    zh: str\n",
    }
    for name, source in old.items():
        assert other_forms(source, "verlings/x.py"), f"the checker misses the {name} form: {source!r}"
    kept = (
        'TEXT = {"total": {"en": "Total", "zh": "总分"}}\n'
        'line = say(TEXT["total"], lang)\n'
        'parser.add_argument("--lang", choices=("en", "zh"))\n'
        'rows = {"city": "北京"}\n'  # data with Chinese in it, not a translation table
    )
    assert other_forms(kept, "verlings/x.py") == []
