"""A target folder is imported as a package: relative imports inside a chapter, chapter_module across.

Issue 13 §2: learner code reaches a sibling of its own chapter with ``from .masks import ...``
and another chapter's module with ``verlings.target.chapter_module``, the same in exercises/,
solutions/ and any --target DIR; one file is one module object however it is reached.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from verlings import target as target_mod
from verlings.paths import EXERCISES, SOLUTIONS


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_sibling_by_relative_import_is_the_same_module_object(tmp_path):
    _write(tmp_path, "03/masks.py", "def whiten(x):\n    return x - 1\n")
    _write(tmp_path, "03/advantages.py", "from .masks import whiten\n\ndef adv(x):\n    return whiten(x) * 2\n")
    adv = target_mod.load_module("03", "advantages", root=tmp_path)
    masks = target_mod.load_module("03", "masks", root=tmp_path)
    assert adv.adv(5) == 8  # (5 - 1) * 2
    assert adv.whiten is masks.whiten, "the sibling was loaded twice, as two module objects"
    assert adv.__name__ == f"{target_mod.package_name(tmp_path)}.ch03.advantages"


def test_two_folders_never_share_a_module(tmp_path):
    for folder, value in (("a", 1), ("b", 2)):
        _write(tmp_path / folder, "03/masks.py", f"VALUE = {value}\n")
    a = target_mod.load_module("03", "masks", root=tmp_path / "a")
    b = target_mod.load_module("03", "masks", root=tmp_path / "b")
    assert (a.VALUE, b.VALUE) == (1, 2)


def test_chapter_module_reads_the_callers_own_folder(tmp_path):
    _write(tmp_path, "04/rule_rewards.py", "NAME = 'tmp rules'\n")
    _write(
        tmp_path,
        "06/capstone.py",
        (
            "from verlings.target import chapter_module\n\n"
            "def rules():\n    return chapter_module('04', 'rule_rewards')\n"
        ),
    )
    capstone = target_mod.load_module("06", "capstone", root=tmp_path)
    assert target_mod.active() != tmp_path  # not the active target: the caller's folder decides
    assert capstone.rules() is target_mod.load_module("04", "rule_rewards", root=tmp_path)
    assert capstone.rules().NAME == "tmp rules"


def test_chapter_module_from_a_file_verl_loads_by_path(tmp_path):
    """verl imports reward.custom_reward_function.path outside any package, as "custom_module"
    (verl/utils/import_utils.py::load_module: spec_from_file_location + exec_module); done here the
    same way, without importing verl (seconds). exercises/06 runs verl's own loader."""
    _write(tmp_path, "04/rule_rewards.py", "NAME = 'sibling'\n")
    _write(
        tmp_path,
        "04/custom_reward.py",
        "from verlings.target import chapter_module\n\nrules = chapter_module('04', 'rule_rewards')\n",
    )
    spec = importlib.util.spec_from_file_location("custom_module", tmp_path / "04" / "custom_reward.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.rules is target_mod.load_module("04", "rule_rewards", root=tmp_path)


def test_a_broken_sibling_is_a_learner_error_naming_its_file(tmp_path):
    _write(tmp_path, "03/masks.py", "def whiten(:\n")
    _write(tmp_path, "03/advantages.py", "from .masks import whiten\n")
    with pytest.raises(target_mod.LearnerCodeError, match=r"SyntaxError.*masks\.py:1"):
        target_mod.load_module("03", "advantages", root=tmp_path)


@pytest.mark.parametrize("root", [EXERCISES, SOLUTIONS], ids=["exercises", "solutions"])
def test_course_modules_use_no_workaround(root):
    """The four old workarounds are gone: no copied helper, no private loaders, no load_module."""
    offenders = [
        f"{path.relative_to(root)}: {needle}"
        for path in sorted(root.glob("0[1-9]/*.py"))
        if not path.name.startswith("test_")
        for needle in ("def _masked_whiten", "def _sibling", "def _load_sibling", "import load_module")
        if needle in path.read_text(encoding="utf-8")
    ]
    assert not offenders, "reach a sibling by relative import, another chapter by chapter_module:\n" + "\n".join(
        offenders
    )


def test_a_module_another_thread_is_importing_is_waited_for(tmp_path):
    # verl's reward workers score in threads: the second thread used to get the half-made module
    # from sys.modules ("partially initialized module ... has no attribute 'math_equal'").
    import threading
    import time

    _write(tmp_path, "04/slow.py", "import time\ntime.sleep(0.5)\n\ndef math_equal(a, b):\n    return a == b\n")
    first = threading.Thread(target=target_mod.load_module, args=("04", "slow"), kwargs={"root": tmp_path})
    first.start()
    name = f"{target_mod.package_name(tmp_path)}.ch04.slow"
    deadline = time.monotonic() + 5
    while name not in __import__("sys").modules and time.monotonic() < deadline:
        time.sleep(0.01)  # until the first thread is inside the module's body
    second = target_mod.load_module("04", "slow", root=tmp_path)
    complete = hasattr(second, "math_equal")  # at once: the same object is complete after join()
    first.join()
    assert complete, "got the module before its body had run"
