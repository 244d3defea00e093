"""benchmarks/bench_03_algorithms.py, without a training run: the command lesson 03 §3.14 shows parses,
each arm's verl command is accepted by verl 0.9.1's config, and the plug-in's estimators are verl's.

A real run of every arm takes about 10 minutes each on 2 cores (the script, not a test, does that).
"""

import json
import os
import re
import shlex
import subprocess
import sys

import pytest

from verlings import verl_config
from verlings.dev.scripts import load_script
from verlings.paths import EXERCISES, ROOT, SOLUTIONS

SCRIPT = ROOT / "benchmarks" / "bench_03_algorithms.py"


def _bench():
    return load_script(SCRIPT)


def _lesson_command(readme: str) -> list[str]:
    text = (EXERCISES / "03" / readme).read_text(encoding="utf-8")
    section = text[text.index("### §3.14"):]
    found = re.search(r"```bash\n(python benchmarks/bench_03_algorithms\.py[^\n]*)\n```", section)
    assert found, f"03/{readme} §3.14 shows no `python benchmarks/bench_03_algorithms.py ...` command"
    return shlex.split(found.group(1))[2:]


@pytest.mark.parametrize("readme", ["README.md", "README.zh-CN.md"])
def test_lesson_command_parses_to_every_arm(readme):
    args = _bench().build_parser().parse_args(_lesson_command(readme))
    assert sorted(args.arms) == sorted(_bench().ARMS), f"03/{readme} §3.14 runs {args.arms}, not every arm"


@pytest.mark.parametrize("arm", ["grpo", "dr_grpo", "rloo", "rpp_baseline", "gae"])
def test_arm_command_is_accepted_by_verl(arm, tmp_path):
    from verlings.capstone.model import model_path

    bench = _bench()
    plan = bench.plan_arm(arm, seed=1, steps=2, out=tmp_path, device="cpu", model=model_path())
    overrides = plan.command[plan.command.index("verl.trainer.main_ppo") + 1:]
    cfg = verl_config.compose(overrides)
    assert verl_config.rejection(cfg) is None, f"arm {arm}: {verl_config.rejection(cfg)}"
    _what, estimator, _extra = bench.ARMS[arm]
    assert cfg.algorithm.adv_estimator == estimator, "the arm's estimator must be the last one given"
    assert verl_config.uses_critic(cfg) == (arm == "gae")
    if arm == "dr_grpo":
        assert cfg.algorithm.norm_adv_by_std_in_grpo is False
        assert cfg.actor_rollout_ref.actor.loss_agg_mode == "seq-mean-token-sum-norm"
    assert "benchmarks.bench_03_plugin" in plan.env["VERL_USE_EXTERNAL_MODULES"].split(",")
    # only the capstone's own GRPO goes through the probe's registration
    assert ("VERLINGS_CAPSTONE_ESTIMATOR" in plan.env) == (estimator == "verlings_grpo")


PLUGIN_CHECK = """
import json, numpy as np, torch, verl
from omegaconf import OmegaConf
from verl.trainer.ppo import core_algos as ca
rewards = torch.zeros(6, 4); rewards[:, 2] = torch.tensor([1.0, 0.0, 2.0, 1.0, 1.0, 0.0])
mask = torch.ones(6, 4); mask[1, 3] = 0
index = np.array(list("aaabbb"), dtype=object)
config = OmegaConf.create({"norm_adv_by_std_in_grpo": True, "gamma": 1.0})
out = {}
for ours, verls in (("verlings_rloo", "rloo"), ("verlings_rpp_baseline", "reinforce_plus_plus_baseline")):
    kw = dict(token_level_rewards=rewards, response_mask=mask, config=config, index=index)
    a, b = ca.get_adv_estimator_fn(ours)(**kw)[0], ca.get_adv_estimator_fn(verls)(**kw)[0]
    out[ours] = [torch.allclose(a, b, atol=1e-6), a.abs().sum().item()]
print(json.dumps(out))
"""


def test_plugin_registers_the_reference_estimators_as_verl_computes_them():
    # in a process of its own, as verl's workers import it (VERL_USE_EXTERNAL_MODULES at `import verl`)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VERLINGS_TARGET": str(SOLUTIONS),
           "VERL_USE_EXTERNAL_MODULES": "benchmarks.bench_03_plugin"}
    done = subprocess.run([sys.executable, "-c", PLUGIN_CHECK], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for name, (same, size) in result.items():
        assert same, f"{name} (solutions/03/advantages.py through the plug-in) differs from verl's estimator"
        assert size > 0, f"{name} gave all-zero advantages on a batch with a reward spread"
