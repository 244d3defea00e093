"""Graded tests for exercises/01/training_loop.py.

repeat_batch is compared with verl's DataProto.repeat (goldens: verlings/goldens/ch01_training_loop.py);
fit_step runs against recording fake workers that note what each stage received.
"""

import numpy as np
import pytest
import torch

from verlings import learner_module
from verlings.testing import assert_close, assert_equal, golden

loop = learner_module("01", "training_loop")

NUMPY_COLUMNS = ("tags", "grid")


def _columns(g: dict, prefix: str) -> dict:
    """The golden's columns with this prefix, as verl holds them (tensors; numpy object strings)."""
    out = {}
    for key, value in g.items():
        if not key.startswith(prefix + "_"):
            continue
        name = key[len(prefix) + 1:]
        if name == "tags":
            out[name] = value.astype(object)
        elif name in NUMPY_COLUMNS:
            out[name] = value
        else:
            out[name] = torch.from_numpy(value)
    return out


# ---------------------------------------------------------------- 01.repeat


@pytest.mark.exercise("01.repeat")
@pytest.mark.parametrize(("interleave", "prefix"), [(True, "inter"), (False, "block")])
def test_repeat_batch_matches_verl(interleave, prefix):
    g = golden("01", "repeat")
    batch = _columns(g, "in")
    seen = loop.repeat_batch(batch=batch, repeat_times=3, interleave=interleave)
    expected = _columns(g, prefix)
    assert_equal(sorted(seen), sorted(expected), what="repeat_batch keys",
                 why="every column is repeated, tensors and numpy arrays alike")
    order = "a, a, a, b, b, b, ..." if interleave else "a, b, c, a, b, c, ..."
    for key, want in expected.items():
        got = seen[key]
        if key in NUMPY_COLUMNS:
            assert isinstance(got, np.ndarray), f"repeat_batch()[{key!r}] is {type(got).__name__}; keep numpy numpy"
            assert_equal(got.tolist(), want.tolist(), what=f"repeat_batch(interleave={interleave})[{key!r}]",
                         why=f"expected rows in the order {order} (verl's DataProto.repeat)")
        else:
            assert isinstance(got, torch.Tensor), f"repeat_batch()[{key!r}] is {type(got).__name__}; keep tensors"
            assert got.dtype == want.dtype, f"repeat_batch()[{key!r}] dtype {got.dtype}, expected {want.dtype}"
            assert_close(got, want, what=f"repeat_batch(interleave={interleave})[{key!r}]",
                         why=f"expected rows in the order {order} (verl's DataProto.repeat), other dims unchanged")


@pytest.mark.exercise("01.repeat")
def test_repeat_batch_interleaves_by_default():
    # Worked by hand: rows [a, b] twice, interleaved → a, a, b, b.
    seen = loop.repeat_batch(batch={"x": torch.tensor([[1, 1], [2, 2]]), "tag": np.array(["a", "b"], dtype=object)},
                             repeat_times=2)
    assert_equal((seen["x"].tolist(), seen["tag"].tolist()), ([[1, 1], [1, 1], [2, 2], [2, 2]], ["a", "a", "b", "b"]),
                 what="repeat_batch(..., repeat_times=2) with the default interleave",
                 why="interleave=True is the default, as in verl: a prompt's samples sit next to each other")


@pytest.mark.exercise("01.repeat")
def test_repeat_batch_leaves_input_alone():
    x = torch.tensor([[1], [2]])
    tag = np.array(["a", "b"], dtype=object)
    batch = {"x": x, "tag": tag}
    loop.repeat_batch(batch=batch, repeat_times=3, interleave=True)
    assert_equal((sorted(batch), batch["x"].tolist(), batch["tag"].tolist()), (["tag", "x"], [[1], [2]], ["a", "b"]),
                 what="the input batch after repeat_batch", why="return a new dict")


# ---------------------------------------------------------------- 01.fit_step

RESPONSE_LENGTH = 3


class RecordingWorkers:
    """Fake workers that record every call: stage name, rows, columns seen, uid and prompt order.

    Every tensor they return depends on the row's prompt (input_ids[:, 0]), so tests can tell
    whether columns line up with the right rows.
    """

    def __init__(self, n=2, use_reference_policy=True, use_critic=True, use_kl_in_reward=False):
        self.rollout_n = n
        self.use_reference_policy = use_reference_policy
        self.use_critic = use_critic
        self.use_kl_in_reward = use_kl_in_reward
        self.calls: list[tuple[str, dict]] = []

    def _record(self, stage: str, batch: dict) -> torch.Tensor:
        rows = {len(v) for v in batch.values()}
        assert len(rows) == 1, f"{stage} received columns of different lengths: " + ", ".join(
            f"{k}={len(v)}" for k, v in batch.items())
        self.calls.append((stage, {
            "rows": rows.pop(), "keys": set(batch),
            "uid": list(batch["uid"]) if "uid" in batch else None,
            "prompt": batch["input_ids"][:, 0].tolist(),
            "batch": dict(batch),
        }))
        return batch["input_ids"][:, :1].float().expand(-1, RESPONSE_LENGTH)

    def generate_sequences(self, batch):
        base = self._record("generate", batch)
        return {"responses": base.long() * 10, "response_mask": torch.ones_like(base, dtype=torch.long)}

    def compute_reward(self, batch):
        return {"token_level_scores": self._record("reward", batch) + 0.5}

    def compute_log_prob(self, batch):
        return {"old_log_probs": -self._record("old_log_prob", batch)}

    def compute_ref_log_prob(self, batch):
        return {"ref_log_prob": -self._record("ref_log_prob", batch) - 1.0}

    def compute_values(self, batch):
        return {"values": self._record("values", batch) * 0.1}

    def apply_kl_penalty(self, batch):
        return {"token_level_rewards": batch["token_level_scores"] - 0.25 + 0 * self._record("kl_in_reward", batch)}

    def compute_advantage(self, batch):
        base = self._record("advantage", batch)
        return {"advantages": base * 2.0, "returns": base * 3.0}

    def update_critic(self, batch):
        self._record("update_critic", batch)
        return {"critic/vf_loss": 1.0}

    def update_actor(self, batch):
        self._record("update_actor", batch)
        return {"actor/pg_loss": 2.0}

    def stages(self):
        return [stage for stage, _ in self.calls]

    def seen(self, stage):
        return next(info for name, info in self.calls if name == stage)


def _prompts(bs=3, prompt_length=4):
    # Row i's prompt starts with token 11 + i, so each row is recognisable after the repeat.
    input_ids = torch.arange(bs * prompt_length).reshape(bs, prompt_length) % 7 + 20
    input_ids[:, 0] = torch.arange(bs) + 11
    return {"input_ids": input_ids, "attention_mask": torch.ones(bs, prompt_length, dtype=torch.long)}


PPO = ["generate", "reward", "old_log_prob", "ref_log_prob", "values", "advantage", "update_critic", "update_actor"]


@pytest.mark.exercise("01.fit_step")
@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        pytest.param(dict(use_reference_policy=True, use_critic=True, use_kl_in_reward=False), PPO, id="ppo"),
        pytest.param(dict(use_reference_policy=True, use_critic=True, use_kl_in_reward=True),
                     [*PPO[:5], "kl_in_reward", *PPO[5:]], id="ppo-kl-in-reward"),
        pytest.param(dict(use_reference_policy=False, use_critic=False, use_kl_in_reward=False),
                     ["generate", "reward", "old_log_prob", "advantage", "update_actor"], id="grpo"),
        pytest.param(dict(use_reference_policy=True, use_critic=False, use_kl_in_reward=False),
                     ["generate", "reward", "old_log_prob", "ref_log_prob", "advantage", "update_actor"],
                     id="grpo-kl-loss"),
    ],
)
def test_fit_step_stage_order(flags, expected):
    workers = RecordingWorkers(n=2, **flags)
    loop.fit_step(batch=_prompts(), workers=workers)
    assert_equal(workers.stages(), expected, what=f"the stages fit_step ran ({flags})",
                 why="verl's order: generate → reward → old log-prob → ref → values → (KL in reward) → "
                 "advantage → critic → actor; skip ref/values/critic/KL when their flag is off")


@pytest.mark.exercise("01.fit_step")
def test_fit_step_uid_per_prompt_before_repeat():
    bs, n = 3, 4
    workers = RecordingWorkers(n=n, use_reference_policy=False, use_critic=False)
    loop.fit_step(batch=_prompts(bs=bs), workers=workers)
    uid = workers.seen("generate")["uid"]
    assert uid is not None, "generate_sequences received no 'uid' column — add it before the repeat"
    groups = [uid[i * n:(i + 1) * n] for i in range(bs)]
    shape = [len(set(group)) for group in groups], len({group[0] for group in groups})
    assert_equal(
        shape, ([1] * bs, bs), what="(distinct uids inside each group of n rows, distinct uids across groups)",
        why="each prompt's uid is assigned once, *before* the repeat, so its n responses share it; "
        "uid assigned after the repeat gives every row its own id and GRPO has no groups",
    )


@pytest.mark.exercise("01.fit_step")
def test_fit_step_repeat_is_interleaved():
    bs, n = 3, 2
    workers = RecordingWorkers(n=n, use_reference_policy=False, use_critic=False)
    loop.fit_step(batch=_prompts(bs=bs), workers=workers)
    # Prompts start with 11, 12, 13; interleaved ×2 → 11, 11, 12, 12, 13, 13.
    assert_equal(workers.seen("generate")["prompt"], [11, 11, 12, 12, 13, 13],
                 what="first token of each row that generate_sequences received",
                 why="repeat interleaved (a, a, b, b) like DataProto.repeat(interleave=True), not a, b, a, b")


@pytest.mark.exercise("01.fit_step")
def test_fit_step_every_stage_sees_all_rows_and_columns():
    bs, n = 2, 3
    workers = RecordingWorkers(n=n, use_reference_policy=True, use_critic=True, use_kl_in_reward=True)
    loop.fit_step(batch=_prompts(bs=bs), workers=workers)
    needs = {  # the columns each stage reads in verl
        "generate": {"input_ids", "attention_mask", "uid"},
        "reward": {"responses", "response_mask"},
        "old_log_prob": {"responses"},
        "ref_log_prob": {"responses", "old_log_probs"},
        "values": {"responses", "old_log_probs", "ref_log_prob"},
        "kl_in_reward": {"token_level_scores", "old_log_probs", "ref_log_prob"},
        "advantage": {"token_level_rewards", "values", "uid", "response_mask"},
        "update_critic": {"values", "returns", "advantages"},
        "update_actor": {"old_log_probs", "advantages", "ref_log_prob", "uid"},
    }
    for stage, keys in needs.items():
        info = workers.seen(stage)
        assert_equal((info["rows"], sorted(keys - info["keys"])), (bs * n, []),
                     what=f"(rows, missing columns) in the batch given to {stage}",
                     why="every stage gets the repeated batch (bs * n rows) with all columns added so far")


@pytest.mark.exercise("01.fit_step")
def test_fit_step_kl_in_reward_only_when_enabled():
    workers = RecordingWorkers(n=2, use_reference_policy=True, use_critic=False, use_kl_in_reward=False)
    loop.fit_step(batch=_prompts(), workers=workers)
    batch = workers.seen("advantage")["batch"]
    assert "kl_in_reward" not in workers.stages(), "apply_kl_penalty ran although use_kl_in_reward is False"
    assert "token_level_rewards" in batch, "compute_advantage received no token_level_rewards"
    assert_close(batch["token_level_rewards"], batch["token_level_scores"],
                 what="token_level_rewards with use_kl_in_reward=False",
                 why="without KL in the reward, the rewards are the scores unchanged")

    workers = RecordingWorkers(n=2, use_reference_policy=True, use_critic=False, use_kl_in_reward=True)
    loop.fit_step(batch=_prompts(), workers=workers)
    batch = workers.seen("advantage")["batch"]
    assert_close(batch["token_level_rewards"], batch["token_level_scores"] - 0.25,
                 what="token_level_rewards with use_kl_in_reward=True",
                 why="use the columns apply_kl_penalty returned (the fake subtracts 0.25)")


@pytest.mark.exercise("01.fit_step")
def test_fit_step_updates_use_the_advantages_of_their_rows():
    workers = RecordingWorkers(n=2, use_reference_policy=False, use_critic=True)
    loop.fit_step(batch=_prompts(bs=3), workers=workers)
    for stage in ("update_critic", "update_actor"):
        batch = workers.seen(stage)["batch"]
        # The fake's advantage is 2 × the row's first prompt token, on every response token.
        expected = batch["input_ids"][:, :1].float().expand(-1, RESPONSE_LENGTH) * 2.0
        assert_close(batch["advantages"], expected, what=f"advantages given to {stage}",
                     why="add each stage's returned columns to the batch (rows stay aligned)")


@pytest.mark.exercise("01.fit_step")
def test_fit_step_returns_the_update_metrics():
    workers = RecordingWorkers(n=2, use_reference_policy=False, use_critic=True)
    metrics = loop.fit_step(batch=_prompts(), workers=workers)
    assert_equal(metrics, {"critic/vf_loss": 1.0, "actor/pg_loss": 2.0}, what="fit_step's return value",
                 why="return {**critic_metrics, **actor_metrics}")
    workers = RecordingWorkers(n=2, use_reference_policy=False, use_critic=False)
    metrics = loop.fit_step(batch=_prompts(), workers=workers)
    assert_equal(metrics, {"actor/pg_loss": 2.0}, what="fit_step's return value without a critic")


@pytest.mark.exercise("01.fit_step")
def test_fit_step_leaves_the_callers_batch_alone():
    batch = _prompts()
    loop.fit_step(batch=batch, workers=RecordingWorkers(n=2))
    assert_equal(sorted(batch), ["attention_mask", "input_ids"], what="the caller's batch keys after fit_step",
                 why="work on a copy (dict(batch)); the dataloader's dict is not yours")
