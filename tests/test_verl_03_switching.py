"""The override table of lesson 03 §3.13 (en and zh) is accepted by verl 0.9.1 as written.

Each row's overrides, placeholders filled in, are appended to a working GRPO base run, composed with
verl's ``ppo_trainer`` config and checked by verl's ``validate_config``; the reference
``switch_overrides`` gives the same values for the keys the table sets.
"""

import re
from functools import cache

import pytest

from verlings import verl_config
from verlings.paths import EXERCISES, SOLUTIONS
from verlings.target import load_module

switching = load_module("03", "switching", root=SOLUTIONS)
MAX_RESPONSE_LENGTH = 48


@cache
def _model() -> str:
    from verlings.capstone.model import model_path

    return str(model_path())


def _base() -> list[str]:
    return [
        "algorithm.adv_estimator=grpo", "data.train_files=train.parquet", "data.val_files=test.parquet",
        "data.train_batch_size=4", f"data.max_response_length={MAX_RESPONSE_LENGTH}",
        f"actor_rollout_ref.model.path='{_model()}'", "actor_rollout_ref.rollout.n=2",
        "actor_rollout_ref.rollout.tensor_model_parallel_size=1", "actor_rollout_ref.actor.ppo_mini_batch_size=4",
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2",
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=2",
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=2", "trainer.n_gpus_per_node=1", "trainer.nnodes=1",
    ]


def _table_rows(readme: str) -> dict[str, list[str]]:
    """{row label: overrides} of the §3.13 table whose cells hold backticked overrides."""
    text = (EXERCISES / "03" / readme).read_text(encoding="utf-8")
    section = text[text.index("### §3.13"):]
    section = section[: section.index("\n### ") if "\n### " in section else None]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[1].startswith("`") and "=" in cells[1]:
            first = re.match(r"`([^`]*)`", cells[1]).group(1)  # the first variant of a row
            rows[cells[0]] = first.split()
    return rows


def _fill(override: str) -> str:
    return (override.replace("<max_response_length>", str(MAX_RESPONSE_LENGTH))
            .replace("<L/4>", str(MAX_RESPONSE_LENGTH // 4)).replace("<L>", str(MAX_RESPONSE_LENGTH))
            .replace("<model>", f"'{_model()}'").replace("<m>", "1"))


ROWS = [(readme, label) for readme in ("README.md", "README.zh-CN.md") for label in _table_rows(readme)]


def test_the_table_has_every_switch():
    assert len(_table_rows("README.md")) == len(_table_rows("README.zh-CN.md")) == 6


@pytest.mark.parametrize(("readme", "label"), ROWS)
def test_lesson_overrides_are_accepted_by_verl(readme, label):
    overrides = [_fill(o) for o in _table_rows(readme)[label]]
    cfg = verl_config.compose(_base() + overrides)
    assert verl_config.rejection(cfg) is None, f"{readme} §3.13 row {label!r}: {verl_config.rejection(cfg)}"


@pytest.mark.parametrize(("row", "algorithm"), [(0, "grpo"), (1, "dr_grpo"), (2, "dapo"), (3, "ppo")])
def test_lesson_rows_agree_with_the_reference(row, algorithm):
    lesson = dict(o.lstrip("+").split("=", 1) for o in map(_fill, list(_table_rows("README.md").values())[row]))
    ours = verl_config.compose(_base() + switching.switch_overrides(algorithm, _model(), MAX_RESPONSE_LENGTH, 1))
    theirs = verl_config.compose(_base() + [_fill(o) for o in list(_table_rows("README.md").values())[row]])
    for key in lesson:
        assert verl_config.select(ours, key) == verl_config.select(theirs, key), key
