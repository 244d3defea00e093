"""The reference validate_batch_sizes / optimizer_steps_per_batch agree with verl 0.9.1 itself.

verl checks batch sizes in two places: ``verl.utils.config.validate_config`` (rules 1-3 of the
exercise, before any worker starts) and, minutes later, the actor's first update
(``TrainingWorker.train_mini_batch`` → ``tensordict_utils.make_iterator`` →
``engine.utils.prepare_micro_batches``, rules 4-6). The oracle below runs both: the first on a
composed config, the second by calling verl's functions on a TensorDict of the size one GPU gets.
"""

import contextlib
import io
import itertools
import random
import warnings

import pytest
import torch

from verlings.paths import SOLUTIONS
from verlings.target import load_module

ref = load_module("01", "batch_math", root=SOLUTIONS)
config_ref = load_module("01", "config", root=SOLUTIONS)

from tensordict import TensorDict  # noqa: E402 - verl (and tensordict) are required for meta-tests
from verl.utils import tensordict_utils as tu  # noqa: E402
from verl.utils.config import validate_config  # noqa: E402
from verl.workers.engine.utils import prepare_micro_batches  # noqa: E402
from verl.workers.engine_workers import TrainingWorker  # noqa: E402


class _Stop(Exception):
    """Raised by the fake engine once train_mini_batch has passed its size checks."""


class _FakeEngine:
    def __init__(self, dp_size):
        self.dp_size = dp_size

    def get_data_parallel_size(self):
        return self.dp_size

    def get_data_parallel_rank(self):
        return 0

    def train_mode(self, **kwargs):
        raise _Stop


class _FakeWorker:
    def __init__(self, dp_size):
        self.engine = _FakeEngine(dp_size)


def _rows(k):
    return TensorDict({"x": torch.zeros(k, 1)}, batch_size=[k])


@pytest.fixture(scope="module")
def base_cfg():
    # A config verl accepts, whose batch keys each case then overwrites.
    return config_ref.compose_config(config_ref.first_run_overrides("/tmp/m", "/tmp/t.parquet", "/tmp/v.parquet"))


def verl_config_verdict(cfg, train, n, mini, micro, gpus, dynamic):
    """verl.utils.config.validate_config's complaint about these sizes, or None."""
    cfg.data.train_batch_size = train
    cfg.actor_rollout_ref.rollout.n = n
    actor = cfg.actor_rollout_ref.actor
    actor.ppo_mini_batch_size, actor.ppo_micro_batch_size_per_gpu, actor.use_dynamic_bsz = mini, micro, dynamic
    cfg.trainer.n_gpus_per_node, cfg.trainer.nnodes = gpus, 1
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            validate_config(config=cfg, use_reference_policy=False, use_critic=False)
    except Exception as exc:
        # ActorConfig.__post_init__ runs inside hydra.utils.instantiate, which wraps its error.
        from hydra.errors import InstantiationException

        inner = exc.__cause__ if isinstance(exc, InstantiationException) and exc.__cause__ else exc
        assert isinstance(inner, AssertionError | ValueError), f"unexpected {type(inner).__name__}: {inner}"
        return str(inner)
    return None


def verl_runtime_verdict(train, n, mini, micro, gpus, dynamic):
    """(check, message) of the actor update's first size failure on one GPU's share, or None."""
    per_gpu = _rows(train * n // gpus)
    tu.assign_non_tensor(per_gpu, mini_batch_size=mini * n, epochs=1, seed=0)
    try:
        TrainingWorker.train_mini_batch(_FakeWorker(gpus), per_gpu)
    except _Stop:
        pass
    except AssertionError as exc:
        return ("mini_split" if str(exc).startswith("Got mini_batch_size") else "mini_iterate"), str(exc)
    if not dynamic:
        mini_batch = _rows(mini * n // gpus)
        tu.assign_non_tensor(mini_batch, micro_batch_size_per_gpu=micro, use_dynamic_bsz=False)
        try:
            prepare_micro_batches(mini_batch)
        except AssertionError as exc:
            return "micro_split", str(exc)
    return None


CONFIG_RULES = ("real_train_batch_size (", "[actor] Please set", "train_batch_size (")  # rules 1-3
RUNTIME_RULE = {  # verl's runtime check → the start of the exercise's message for it (rules 4-6)
    "mini_split": "ppo_mini_batch_size * rollout.n (",
    "mini_iterate": "train_batch_size (",
    "micro_split": "ppo_mini_batch_size * rollout.n / n_gpus (",
}

GRID = list(itertools.product(
    (1, 2, 3, 4, 6, 8),  # train_batch_size
    (1, 2, 3, 4),  # rollout.n
    (1, 2, 3, 4, 8),  # ppo_mini_batch_size
    (None, 1, 2, 3, 4),  # ppo_micro_batch_size_per_gpu
    (1, 2, 4),  # n_gpus
    (False, True),  # use_dynamic_bsz
))


def _as_dict(train, n, mini, micro, dynamic, epochs=1):
    return {"data": {"train_batch_size": train}, "actor_rollout_ref": {"rollout": {"n": n}, "actor": {
        "ppo_mini_batch_size": mini, "ppo_micro_batch_size_per_gpu": micro, "use_dynamic_bsz": dynamic,
        "ppo_epochs": epochs}}}


def _ours(train, n, mini, micro, gpus, dynamic):
    try:
        ref.validate_batch_sizes(_as_dict(train, n, mini, micro, dynamic), gpus)
    except ValueError as exc:
        return str(exc)
    return None


def _is_config_rule(message):
    return message is not None and (message.startswith(CONFIG_RULES[:2]) or "must be >=" in message)


# validate_config costs 30-300 ms: a seeded sample of the grid plus the cases the graded tests use.
SAMPLE = [
    *random.Random(0).sample(GRID, 150),
    (3, 1, 3, 1, 2, False), (5, 2, 5, 1, 4, False), (4, 2, 4, None, 1, False), (2, 4, 4, 2, 1, False),
    (3, 1, 4, None, 2, False), (2, 2, 4, 1, 1, False), (3, 2, 3, 3, 2, False), (8, 2, 4, None, 2, True),
]


@pytest.mark.timeout(600)
def test_config_rules_agree_with_validate_config(base_cfg):
    """Rules 1-3: same cases rejected as verl's validate_config, with verl's exact message."""
    disagreements, rejected = [], 0
    for case in SAMPLE:
        verl = verl_config_verdict(base_cfg, *case)
        ours = _ours(*case)
        ours = ours if _is_config_rule(ours) else None
        rejected += verl is not None
        if ours != verl:
            disagreements.append(f"T, n, M, m, gpus, dynamic = {case}: verl {verl!r}, ours {ours!r}")
    assert 0 < rejected < len(SAMPLE), rejected
    assert not disagreements, f"{len(disagreements)} disagreements, e.g.:\n" + "\n".join(disagreements[:15])


def test_runtime_rules_agree_with_the_actor_update():
    """Rules 4-6, on every grid case that passes rules 1-3: same verdict as verl's update path."""
    disagreements, compared, rejected = [], 0, 0
    for case in GRID:
        train, n, _, _, gpus, dynamic = case
        ours = _ours(*case)
        if _is_config_rule(ours):
            continue  # verl stops earlier (test_config_rules_agree_with_validate_config)
        if dynamic and train * n % gpus:
            # verl would stop when splitting the batch over the GPUs; rules 4 and 5 imply
            # T*n % gpus == 0, so the exercise must reject the case too.
            if ours is None:
                disagreements.append(f"{case}: accepted, but T*n does not split over the GPUs")
            continue
        verl = verl_runtime_verdict(*case)
        compared += 1
        rejected += verl is not None
        if verl is None or ours is None:
            if (verl is None) != (ours is None):
                disagreements.append(f"{case}: verl {verl}, ours {ours!r}")
        elif not ours.startswith(RUNTIME_RULE[verl[0]]) or (verl[0] == "mini_split" and "/ n_gpus" in ours):
            disagreements.append(f"{case}: verl fails at {verl[0]} ({verl[1]!r}), ours {ours!r}")
    assert compared > 500 and 0 < rejected < compared, (compared, rejected)
    assert not disagreements, f"{len(disagreements)} disagreements, e.g.:\n" + "\n".join(disagreements[:15])


@pytest.mark.parametrize("epochs", [1, 2, 3])
def test_optimizer_steps_agree_with_verls_iterator(base_cfg, epochs):
    checked = 0
    for train, n, mini, micro, gpus, dynamic in GRID:
        if _ours(train, n, mini, micro, gpus, dynamic) is not None:
            continue
        # train_mini_batch iterates make_iterator over one GPU's rows; one optimizer step per mini batch.
        per_gpu = _rows(train * n // gpus)
        verl_steps = sum(1 for _ in tu.make_iterator(per_gpu, mini_batch_size=mini * n // gpus, epochs=epochs))
        ours = ref.optimizer_steps_per_batch(_as_dict(train, n, mini, micro, dynamic, epochs))
        assert ours == verl_steps, f"T={train} n={n} M={mini} gpus={gpus} epochs={epochs}: {ours} vs verl {verl_steps}"
        checked += 1
    assert checked > 50


# verlings/verl_batch_rules.py is the oracle of the graded differential tests
# (exercises/01/test_batch_math_properties.py): its transcription of verl's checks must agree with
# the live functions, not only with the reference solution.
RUNTIME_CHECK_RULE = {"mini_split": 4, "mini_iterate": 5, "micro_split": 6}


@pytest.mark.timeout(600)
def test_transcribed_config_checks_agree_with_validate_config(base_cfg):
    from verlings.verl_batch_rules import verl_batch_verdict

    disagreements = []
    for case in SAMPLE:
        verl = verl_config_verdict(base_cfg, *case)
        copy = verl_batch_verdict(*case)
        copy = copy.message if copy is not None and copy.rule <= 3 else None
        if copy != verl:
            disagreements.append(f"T, n, M, m, gpus, dynamic = {case}: verl {verl!r}, transcription {copy!r}")
    assert not disagreements, "\n".join(disagreements[:15])


def test_transcribed_runtime_checks_agree_with_the_actor_update():
    from verlings.verl_batch_rules import verl_batch_verdict, verl_optimizer_steps

    disagreements, compared = [], 0
    for case in GRID:
        train, n, mini, _, gpus, dynamic = case
        copy = verl_batch_verdict(*case)
        if (copy is not None and copy.rule <= 3) or (dynamic and train * n % gpus):
            continue  # verl stops before the update (see the tests above)
        verl = verl_runtime_verdict(*case)
        compared += 1
        if (None if verl is None else RUNTIME_CHECK_RULE[verl[0]]) != (None if copy is None else copy.rule):
            disagreements.append(f"{case}: verl {verl}, transcription {copy}")
        if copy is None:
            per_gpu = _rows(train * n // gpus)
            steps = sum(1 for _ in tu.make_iterator(per_gpu, mini_batch_size=mini * n // gpus, epochs=2))
            if steps != verl_optimizer_steps(train, n, mini, gpus, 2):
                disagreements.append(f"{case}: verl takes {steps} steps in 2 epochs")
    assert compared > 500, compared
    assert not disagreements, "\n".join(disagreements[:15])
