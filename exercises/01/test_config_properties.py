"""Graded property tests for exercises/01/config.py: every path first_run_overrides quotes reads back,
through Hydra's own override parser (the one verl's command line and compose_config use), as exactly
the path given.

Hypothesis builds paths from the awkward pieces: spaces, commas, '=', brackets, quotes, backslashes
(before a quote, doubled, at the very end), unicode. Derandomized: the same paths on every run; a
failure shows the shortest it found. Parsing an override takes milliseconds (no config is composed).
"""

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verlings import learner_module
from verlings.differential import PROPERTY_SETTINGS
from verlings.testing import hint_line

config = learner_module("01", "config")

PIECES = ["/data", "/my data", "a", "ü", "数据", " ", ",", "=", "[", "]", "'", '"', "\\", "\\'", "\\\\", ":", "#", "-"]
paths = st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join)


def _hydra_reads(override: str):
    """The value Hydra's override parser reads from ``key=value`` (what compose_config would set)."""
    return _parser().parse_overrides([override])[0].value()


@functools.cache
def _parser():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create()


def _value_of(overrides: list, key: str) -> str:
    # '+key=' and '++key=' are Hydra's add / force-add forms of the same override
    found = [o for o in overrides if isinstance(o, str) and o.lstrip("+").startswith(key + "=")]
    assert len(found) == 1, f"first_run_overrides gave {len(found)} overrides for {key}: {found}\n{hint_line()}"
    return found[0]


@pytest.mark.exercise("01.first_run")
@settings(PROPERTY_SETTINGS, max_examples=40)
@given(model=paths, train=st.one_of(paths, st.lists(paths, min_size=1, max_size=3)), val=paths)
def test_first_run_overrides_paths_read_back_exactly(model, train, val):
    overrides = config.first_run_overrides(model_path=model, train_files=train, val_files=val)
    for key, given_value in (
        ("actor_rollout_ref.model.path", model),
        ("data.train_files", train),
        ("data.val_files", val),
    ):
        override = _value_of(overrides, key)
        try:
            seen = _hydra_reads(override)
        except Exception as exc:  # Hydra's grammar refused the override
            seen = f"<Hydra cannot parse it: {type(exc).__name__}>"
        assert seen == given_value, (
            f"called first_run_overrides(model_path={model!r}, train_files={train!r}, val_files={val!r})\n"
            f"  {override}\n  Hydra reads {key} = {seen!r}; given {given_value!r}\n"
            "  quote each path ('...'); inside the quotes Hydra reads \\' as ' and a backslash run before a quote "
            "or at the very end as escapes: double those backslashes\n" + hint_line()
        )
