"""The reference compose_config / first_run_overrides against verl 0.9.1 itself.

* compose_config gives exactly the config verl's own entry point composes
  (``python -m verl.trainer.main_ppo --cfg job ...`` prints it without running anything);
* verl's defaults alone are rejected by ``validate_config``, and first_run_overrides fixes that
  for every estimator, size and GPU count tried — GAE included, with a tiny local model for the critic.
"""

import contextlib
import io
import shutil
import subprocess
import sys
import warnings

import pytest
from omegaconf import OmegaConf

from verlings.paths import SOLUTIONS
from verlings.target import load_module

ref = load_module("01", "config", root=SOLUTIONS)

from verl.utils.config import validate_config  # noqa: E402 - verl is required for meta-tests


def _validate(cfg, use_critic=False):
    """verl's validate_config, quiet; returns the error it raises (Hydra's wrapper removed) or None."""
    from hydra.errors import InstantiationException

    use_ref = bool(cfg.algorithm.use_kl_in_reward or cfg.actor_rollout_ref.actor.use_kl_loss)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            validate_config(config=cfg, use_reference_policy=use_ref, use_critic=use_critic)
    except Exception as exc:
        return exc.__cause__ if isinstance(exc, InstantiationException) and exc.__cause__ else exc
    return None


def test_verl_defaults_alone_are_rejected():
    error = _validate(ref.compose_config([]))
    assert error is not None and "micro_batch_size" in str(error), error


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"adv_estimator": "rloo", "rollout_n": 4},
        {"adv_estimator": "reinforce_plus_plus", "train_batch_size": 8, "ppo_mini_batch_size": 2},
        {"train_batch_size": 8, "rollout_n": 4, "ppo_mini_batch_size": 4, "micro_batch_size_per_gpu": 4, "n_gpus": 2},
        {"train_batch_size": 16, "rollout_n": 8, "ppo_mini_batch_size": 8, "micro_batch_size_per_gpu": 8, "n_gpus": 8},
        {"rollout_name": "sglang", "loggers": ("console",), "total_training_steps": 10},
    ],
    ids=["defaults", "rloo", "reinforce_pp", "2-gpus", "8-gpus", "sglang"],
)
def test_first_run_overrides_accepted_by_validate_config(tmp_path, kw):
    files = str(tmp_path / "t.parquet"), str(tmp_path / "v.parquet")
    overrides = ref.first_run_overrides(str(tmp_path / "m"), *files, **kw)
    assert _validate(ref.compose_config(overrides)) is None


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A folder HFModelConfig can load: the course's local tokenizer plus a 1-layer Qwen2 config (no weights)."""
    from transformers import Qwen2Config

    from verlings.fixtures.tokenizer import tokenizer_path

    root = tmp_path_factory.mktemp("models")
    folder = root / "tiny qwen2"
    shutil.copytree(tokenizer_path(root / "tokenizer"), folder)
    Qwen2Config(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=1, num_attention_heads=1,
                num_key_value_heads=1, architectures=["Qwen2ForCausalLM"]).save_pretrained(folder)
    return folder


@pytest.mark.timeout(300)
def test_first_run_overrides_for_gae_build_a_critic_verl_accepts(tiny_model, tmp_path):
    overrides = ref.first_run_overrides(str(tiny_model), str(tmp_path / "t.parquet"), str(tmp_path / "v.parquet"),
                                        adv_estimator="gae")
    assert _validate(ref.compose_config(overrides), use_critic=True) is None
    # Without the critic's rows verl refuses: they are needed, not decoration.
    bare = [o for o in overrides if not o.startswith("critic.ppo_micro")]
    assert "critic" in str(_validate(ref.compose_config(bare), use_critic=True))


@pytest.mark.timeout(300)
def test_compose_config_equals_what_main_ppo_composes(tmp_path):
    odd = tmp_path / "my data, v=1 [it's]"
    overrides = [*ref.first_run_overrides(str(odd / "model"), [str(odd / "a.parquet"), str(odd / "b.parquet")],
                                          str(odd / "test.parquet")), "+data.course_note=hello"]
    # Hydra's --cfg job prints the composed config and exits before the app (no Ray, no workers).
    printed = subprocess.run(
        [sys.executable, "-m", "verl.trainer.main_ppo", "--cfg", "job", *overrides],
        capture_output=True, text=True, timeout=240, cwd=tmp_path, check=True,
    ).stdout
    ours = OmegaConf.to_container(ref.compose_config(overrides))
    theirs = OmegaConf.to_container(OmegaConf.create(printed))
    assert ours == theirs
    assert theirs["data"]["train_files"] == [str(odd / "a.parquet"), str(odd / "b.parquet")]


_OTHER_FIRST_RUN = '''
"""A different, equally correct first_run_overrides: other order, '++' and double quotes."""
import re


def first_run_overrides(model_path, train_files, val_files, *, adv_estimator="grpo", train_batch_size=4,
                        rollout_n=2, ppo_mini_batch_size=None, micro_batch_size_per_gpu=2, max_prompt_length=64,
                        max_response_length=32, total_training_steps=2, n_gpus=1, rollout_name="vllm",
                        project_name="verlings", experiment_name="first_run", loggers=("console", "tensorboard")):
    def q(v):  # double quotes: Hydra unescapes only backslash runs before a quote or at the very end
        v = re.sub(r'(\\\\*)"', lambda m: m.group(1) * 2 + '\\\\"', v)
        return '"' + re.sub(r"(\\\\+)$", lambda m: m.group(1) * 2, v) + '"'

    files = lambda v: q(v) if isinstance(v, str) else "[" + ", ".join(map(q, v)) + "]"
    micro = micro_batch_size_per_gpu
    out = {
        "trainer.save_freq": -1, "trainer.test_freq": -1, "trainer.val_before_train": "false",
        "trainer.experiment_name": q(experiment_name), "trainer.project_name": q(project_name),
        "trainer.logger": "[" + ", ".join(loggers) + "]", "trainer.total_training_steps": total_training_steps,
        "trainer.nnodes": 1, "trainer.n_gpus_per_node": n_gpus,
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu": micro,
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu": micro,
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": micro,
        "actor_rollout_ref.actor.ppo_mini_batch_size": ppo_mini_batch_size or train_batch_size,
        "actor_rollout_ref.rollout.tensor_model_parallel_size": 1,
        "actor_rollout_ref.rollout.name": rollout_name, "actor_rollout_ref.rollout.n": rollout_n,
        "actor_rollout_ref.model.path": q(str(model_path)),
        "data.max_response_length": max_response_length, "data.max_prompt_length": max_prompt_length,
        "data.train_batch_size": train_batch_size, "data.val_files": files(val_files),
        "data.train_files": files(train_files), "algorithm.adv_estimator": adv_estimator,
    }
    if adv_estimator == "gae":
        out.update({"critic.model.path": q(str(model_path)), "critic.ppo_micro_batch_size_per_gpu": micro})
    return [f"++{k}={v}" for k, v in out.items()]
'''


@pytest.mark.timeout(300)
def test_another_correct_first_run_passes_the_graded_tests(tmp_path):
    from verlings.dev.mutants import graded_failures

    (tmp_path / "01").mkdir()
    (tmp_path / "01" / "config.py").write_text(_OTHER_FIRST_RUN, encoding="utf-8")
    failed, passed = graded_failures(tmp_path, "01.first_run")
    assert passed and not failed, f"a correct alternative fails graded tests of 01.first_run: {failed}"
