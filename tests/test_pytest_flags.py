"""`pytest exercises/NN` (pyproject's addopts) and the grader's child runs (PYTEST_FLAGS) load the
same plug-ins: a plug-in switched off for speed in one and not the other would make the two grade
differently, or one of them slower."""

import shlex
import tomllib

from verlings.grading import PYTEST_FLAGS
from verlings.paths import ROOT


def _plugin_switches(words) -> set[str]:
    words = list(words)
    return {words[i + 1] for i, w in enumerate(words[:-1]) if w == "-p"}


def test_addopts_and_the_graders_flags_switch_the_same_plugins():
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    addopts = shlex.split(ini["addopts"])
    assert _plugin_switches(addopts) == _plugin_switches(PYTEST_FLAGS)
    assert "--import-mode=importlib" in addopts and "--import-mode=importlib" in PYTEST_FLAGS


def test_the_slow_plugins_stay_off():
    # logging: a handler attached to each of torch's ~40 non-propagating loggers per test phase;
    # unraisableexception: gc.collect() five times at the end of every run
    assert {"no:logging", "no:unraisableexception"} <= _plugin_switches(PYTEST_FLAGS)
