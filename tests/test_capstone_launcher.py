"""The capstone's machinery without a training run: device selection, the command and
environment of both paths, the probe, learner-error extraction, summaries, fixtures, CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from verlings.capstone import launcher, learner_checks, probe, sessions
from verlings.capstone.launcher import CPU_ENV, RunConfig, choose_device, cpu_overrides, gpu_overrides, plan
from verlings.paths import ROOT, SOLUTIONS

LEARNER = ["algorithm.adv_estimator=my_grpo", "reward.custom_reward_function.path=/t/06/capstone.py",
           "reward.custom_reward_function.name=compute_score"]


# --- device selection and the two paths --------------------------------------------------------


def _machine(gpus: bool, cuda_torch: bool) -> dict:
    from verlings.device import EngineBuild, TorchBuild

    return {"gpus": ["GPU 0: NVIDIA H100"] if gpus else [],
            "torch": TorchBuild("2.13.0+cu128", "12.8") if cuda_torch else TorchBuild("2.13.0+cpu", ""),
            "engine": EngineBuild()}


def test_choose_device_is_verlings_device_verdict():
    # the launcher asks verlings.device, as the installer and the doctor do
    assert choose_device(cuda_available=True, environ={}, **_machine(gpus=True, cuda_torch=True)) == "gpu"
    assert choose_device(cuda_available=False, environ={}, **_machine(gpus=True, cuda_torch=True)) == "cpu"
    assert choose_device(environ={}, **_machine(gpus=False, cuda_torch=False)) == "cpu"
    # a GPU next to a CPU torch takes the CPU path (the CUDA engine could not run on it)
    assert choose_device(environ={}, **_machine(gpus=True, cuda_torch=False)) == "cpu"


def test_choose_device_environment_forces_a_path():
    machine = _machine(gpus=True, cuda_torch=True)
    assert choose_device(cuda_available=True, environ={"VERLINGS_CAPSTONE_DEVICE": "cpu"}, **machine) == "cpu"
    assert choose_device(cuda_available=False, environ={"VERLINGS_DEVICE": "GPU"}, **machine) == "gpu"
    with pytest.raises(ValueError, match="cpu' or 'gpu"):
        choose_device(cuda_available=False, environ={"VERLINGS_CAPSTONE_DEVICE": "tpu"}, **machine)


def test_choose_device_on_this_machine_matches_verlings_device():
    from verlings import device

    env = {k: v for k, v in os.environ.items() if k not in ("VERLINGS_CAPSTONE_DEVICE", "VERLINGS_DEVICE")}
    assert choose_device(environ=env) == device.detect(env).device


def test_engine_of_the_other_path_is_refused(monkeypatch):
    from verlings import device
    from verlings.device import EngineBuild

    monkeypatch.setattr(device, "engine_build", lambda directory=None: EngineBuild("cpu", "0.32.0", "/e"))
    message = launcher.engine_missing(device="gpu")
    assert message is not None and "CPU build" in message and "install_rollout_engine.sh" in message


def test_cpu_path_loads_the_platform_plugin_and_its_environment(tmp_path):
    p = plan(RunConfig(), tmp_path, "cpu", learner_overrides=LEARNER, target=SOLUTIONS, python="py")
    modules = p.env["VERL_USE_EXTERNAL_MODULES"].split(",")
    assert modules == ["verlings.capstone.cpu_platform", "verlings.capstone.probe"]
    for key, value in CPU_ENV.items():
        assert p.env[key] == value
    assert p.command[:3] == ["py", "-m", "verl.trainer.main_ppo"]
    assert p.env[probe.ENV_ESTIMATOR] == "my_grpo"
    assert p.env[probe.ENV_DIR] == str(tmp_path.resolve())
    assert p.env["VERLINGS_TARGET"] == str(SOLUTIONS)
    assert p.env["PYTHONPATH"].split(os.pathsep)[0] == str(ROOT)
    assert p.env["TENSORBOARD_DIR"] == str(tmp_path.resolve() / "tensorboard")


def test_gpu_path_is_the_cpu_path_minus_cpu_hacks(tmp_path, monkeypatch):
    # even with CPU settings left in the caller's environment, the GPU run must not see them
    for key, value in CPU_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("VERL_USE_EXTERNAL_MODULES", "verlings.capstone.cpu_platform")
    cpu = plan(RunConfig(), tmp_path, "cpu", learner_overrides=LEARNER, python="py")
    gpu = plan(RunConfig(), tmp_path, "gpu", learner_overrides=LEARNER, python="py")
    assert gpu.env["VERL_USE_EXTERNAL_MODULES"] == "verlings.capstone.probe"
    assert not set(CPU_ENV) & set(gpu.env)
    cpu_args, gpu_args = cpu.command[3:], gpu.command[3:]
    assert [a for a in cpu_args if a not in cpu_overrides()] == [a for a in gpu_args if a not in gpu_overrides()]
    assert cpu_args[-3:] == LEARNER and gpu_args[-3:] == LEARNER, "the learner's overrides come last, so they win"


def test_shell_line_reproduces_the_run(tmp_path):
    p = plan(RunConfig(steps=3), tmp_path, "cpu", learner_overrides=LEARNER, python="py")
    line = p.shell()
    assert "VERL_PLATFORM=cpu" in line and "trainer.total_training_steps=3" in line
    assert line.index("VERL_PLATFORM") < line.index("verl.trainer.main_ppo")


def test_a_run_without_an_address_starts_a_ray_of_its_own(tmp_path):
    # plain ray.init() joins any cluster already running on the machine (another job's `ray start`)
    # and then refuses num_cpus: "local" never joins. Once, also when a script already asked for it.
    local = "+ray_kwargs.ray_init.address=local"
    own = plan(RunConfig(), tmp_path, "cpu", learner_overrides=LEARNER, python="py")
    asked = plan(RunConfig(extra=[local]), tmp_path, "cpu", learner_overrides=LEARNER, python="py")
    joined = plan(RunConfig(ray_address="10.0.0.1:6379"), tmp_path, "cpu", learner_overrides=LEARNER, python="py")
    assert own.command.count(local) == 1 and asked.command.count(local) == 1
    assert local not in joined.command and "+ray_kwargs.ray_init.address=10.0.0.1:6379" in joined.command


def _compose(overrides: list[str]):
    import importlib.util

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    spec = importlib.util.find_spec("verl")
    config_dir = Path(next(iter(spec.submodule_search_locations))) / "trainer" / "config"
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base=None):
            return compose(config_name="ppo_trainer", overrides=overrides)
    finally:
        GlobalHydra.instance().clear()


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_overrides_compose_and_validate_with_verl(tmp_path, device):
    from verl.utils.config import validate_config

    p = plan(RunConfig(), tmp_path, device, learner_overrides=LEARNER, python="py", model=tmp_path / "model")
    cfg = _compose(p.command[3:])
    assert cfg.algorithm.adv_estimator == "my_grpo"
    assert cfg.reward.custom_reward_function.path == "/t/06/capstone.py"
    assert cfg.actor_rollout_ref.rollout.n == 2 and cfg.data.train_batch_size == 4
    assert cfg.trainer.total_training_steps == 2 and list(cfg.trainer.logger) == ["console", "tensorboard"]
    assert cfg.trainer.val_before_train is False and cfg.trainer.save_freq == -1
    if device == "cpu":
        assert cfg.ray_kwargs.ray_init.num_gpus == 1 and cfg.actor_rollout_ref.rollout.enable_sleep_mode is False
    else:
        assert "num_gpus" not in cfg.ray_kwargs.ray_init
    validate_config(config=cfg, use_reference_policy=False, use_critic=False)


def test_demo_config_validates(tmp_path):
    from verl.utils.config import validate_config

    from verlings.capstone.cli import DEMO

    p = plan(RunConfig(steps=30, **DEMO), tmp_path, "cpu", learner_overrides=LEARNER, python="py")
    cfg = _compose(p.command[3:])
    validate_config(config=cfg, use_reference_policy=False, use_critic=False)
    # padded rows for the actor: under sdpa verl's packed rows let sequences attend to each other
    model, actor = cfg.actor_rollout_ref.model, cfg.actor_rollout_ref.actor
    assert model.use_remove_padding is False and actor.use_remove_padding is False


# --- engine detection and the CLI without an engine ----------------------------------------------


def test_engine_missing_names_the_install_script(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    message = launcher.engine_missing(str(fake))
    assert message is not None and "bash scripts/install_rollout_engine.sh" in message


def test_engine_python_prefers_the_engine_venv(tmp_path, monkeypatch):
    from verlings import device
    from verlings.engine_imports import engine_python

    monkeypatch.setenv(device.ENGINE_DIR_ENV, str(tmp_path))
    assert engine_python() == sys.executable
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("")
    assert engine_python() == str(tmp_path / "bin" / "python")


def test_cli_without_engine_says_how_to_install(tmp_path, monkeypatch, capsys):
    from verlings.capstone import cli

    monkeypatch.setattr(cli, "engine_missing", lambda **kw: "the rollout engine (vLLM) is not installed — run: X")
    assert cli.main(["--solutions", "--out", str(tmp_path / "out")]) == 2
    assert "not installed" in capsys.readouterr().out


def test_cli_rejects_bad_arguments(capsys):
    from verlings.capstone import cli

    assert cli.main(["--steps", "0", "--solutions"]) == 2
    with pytest.raises(SystemExit):
        cli.main(["--device", "tpu"])


# --- the probe: counting calls and keeping the learner's traceback -------------------------------


@pytest.fixture
def probe_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(probe.ENV_DIR, str(tmp_path))
    return tmp_path


def test_counted_records_each_call(probe_dir):
    fn = probe.counted(lambda **kw: {"score": 1.5, "digits": 0.5, "note": [1]}, "reward")
    for _ in range(3):
        assert fn(solution_str="1")["score"] == 1.5
    assert launcher.count_calls(probe_dir) == {"reward": 3}
    first = json.loads((probe_dir / probe.CALLS).read_text().splitlines()[0])
    assert first["result"] == {"score": 1.5, "digits": 0.5}
    assert probe.counted(fn, "reward") is fn, "wrapping twice would count twice"


def test_counted_keeps_the_first_learner_error(probe_dir):
    def learner_reward(**kw):
        raise ZeroDivisionError("digits of an empty answer")

    fn = probe.counted(learner_reward, "reward")
    for _ in range(2):
        with pytest.raises(ZeroDivisionError):
            fn(solution_str="")
    probe.record_error("later", RuntimeError("a consequence"))
    text = (probe_dir / probe.ERROR).read_text()
    assert text.startswith("your reward raised inside verl:")
    assert "ZeroDivisionError: digits of an empty answer" in text and "learner_reward" in text
    assert "probe.py" not in text, "the probe's own frames are noise"
    assert "a consequence" not in text


def test_counted_keeps_async_functions_async(probe_dir):
    async def score(**kw):
        return 2.0

    fn = probe.counted(score, "reward")
    assert asyncio.iscoroutinefunction(fn)
    assert asyncio.run(fn(solution_str="2")) == 2.0
    assert launcher.count_calls(probe_dir) == {"reward": 1}


def test_estimator_calls_record_the_batch_size(probe_dir):
    import torch

    fn = probe.counted(lambda **kw: (kw["token_level_rewards"], kw["token_level_rewards"]), "estimator")
    fn(token_level_rewards=torch.zeros(8, 3), response_mask=torch.ones(8, 3))
    line = json.loads((probe_dir / probe.CALLS).read_text())
    assert line["fn"] == "estimator" and line["batch"] == 8


@pytest.mark.timeout(330)  # a fresh process importing verl: over a minute on a busy 2-core machine
def test_probe_registers_and_counts_the_learners_estimator_in_verl(tmp_path):
    """In a fresh process, as verl loads it: VERL_USE_EXTERNAL_MODULES=verlings.capstone.probe."""
    code = textwrap.dedent("""
        import numpy as np, torch
        from verl.trainer.ppo import core_algos
        fn = core_algos.get_adv_estimator_fn("probe_grpo")
        fn(token_level_rewards=torch.zeros(2, 3), response_mask=torch.ones(2, 3), config=None,
           index=np.array(["a", "a"], dtype=object))
        from verl.trainer.ppo.reward import get_custom_reward_fn
        from omegaconf import OmegaConf
        cfg = OmegaConf.create({"reward": {"custom_reward_function": {
            "path": CAPSTONE, "name": "compute_score", "reward_kwargs": {}}}})
        get_custom_reward_fn(cfg)(data_source="verlings/arith", solution_str="7", ground_truth="7")
    """).replace("CAPSTONE", repr(str(SOLUTIONS / "06" / "capstone.py")))
    env = {**os.environ, "VERL_USE_EXTERNAL_MODULES": "verlings.capstone.probe", probe.ENV_DIR: str(tmp_path),
           probe.ENV_ESTIMATOR: "probe_grpo", "VERLINGS_TARGET": str(SOLUTIONS), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert launcher.count_calls(tmp_path) == {"estimator": 1, "reward": 1}


@pytest.mark.timeout(330)  # a fresh process importing verl: over a minute on a busy 2-core machine
def test_probe_reports_a_failing_register_estimator(tmp_path):
    target = tmp_path / "target"
    (target / "06").mkdir(parents=True)
    (target / "06" / "capstone.py").write_text(
        "def register_estimator(name):\n    raise RuntimeError('boom in register_estimator')\n")
    env = {**os.environ, "VERL_USE_EXTERNAL_MODULES": "verlings.capstone.probe", probe.ENV_DIR: str(tmp_path),
           probe.ENV_ESTIMATOR: "x", "VERLINGS_TARGET": str(target), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", "import verl.trainer.ppo.core_algos"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    text = (tmp_path / probe.ERROR).read_text()
    assert "register_estimator('x') failed" in text and "boom in register_estimator" in text


# --- learner-error extraction from a failed run's log ---------------------------------------------

RAY_LOG = """\
(TaskRunner pid=1) INFO something
(TaskRunner pid=1) Traceback (most recent call last):
(TaskRunner pid=1)   File "/venv/ray/_private/worker.py", line 10, in get
(TaskRunner pid=1) ray.exceptions.RayTaskError: unrelated
Traceback (most recent call last):
  File "/venv/verl/trainer/ppo/ray_trainer.py", line 279, in compute_advantage
  File "{learner}", line 12, in grpo_estimator
    return 1 / 0
ZeroDivisionError: division by zero
"""


def test_learner_error_prefers_the_probes_record(tmp_path):
    (tmp_path / probe.ERROR).write_text("your reward raised inside verl:\nValueError: x\n")
    assert learner_checks.learner_error(tmp_path, RAY_LOG, []).startswith("your reward raised")


def test_learner_error_finds_the_traceback_through_learner_files(tmp_path):
    learner = tmp_path / "06" / "capstone.py"
    found = learner_checks.learner_error(tmp_path, RAY_LOG.format(learner=learner), [learner])
    assert found is not None and "grpo_estimator" in found and "ZeroDivisionError" in found
    assert "unrelated" not in found


def test_learner_error_explains_a_rejected_override(tmp_path):
    log = ("Could not override 'algorithm.adv_estimatr'.\nTo append to your config use "
           "+algorithm.adv_estimatr=my_grpo\nKey 'adv_estimatr' is not in struct\n")
    found = learner_checks.learner_error(tmp_path, log, [])
    assert found is not None and found.startswith("verl rejected an override") and "adv_estimatr" in found


def test_learner_error_is_none_when_the_learner_is_not_involved(tmp_path):
    assert learner_checks.learner_error(tmp_path, "Traceback (most recent call last):\nOSError: disk full\n",
                                  [tmp_path / "06" / "capstone.py"]) is None


def test_failure_puts_the_learners_part_first(tmp_path):
    result = launcher.RunResult(returncode=1, wall_s=12.0, out_dir=tmp_path, log="a\n" * 100 + "RayTaskError\n",
                                device="cpu", learner_error="your reward raised inside verl:\nValueError: x")
    text = result.failure()
    assert text.index("── your code ──") < text.index("── end of the log")
    assert text.index("ValueError: x") < text.index("RayTaskError")


# --- summary, plot, fixtures ---------------------------------------------------------------------


def _write_events(logdir: Path, series: dict[str, list[float]]) -> None:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(logdir))
    for tag, values in series.items():
        for step, value in enumerate(values, start=1):
            writer.add_scalar(tag, value, step)
    writer.close()


def test_summary_reads_tensorboard_and_writes_metrics_json(tmp_path):
    from verlings.capstone.summary import not_finite, summarize

    _write_events(tmp_path / "tensorboard", {"critic/score/mean": [-0.5, 0.25], "actor/pg_loss": [0.1, float("nan")],
                                             "actor/grad_norm": [1.0, 2.0], "other/tag": [3.0, 4.0]})
    s = summarize(tmp_path, wall_s=12.34, device="cpu", calls={"reward": 16}, config=RunConfig())
    assert s["steps"] == 2 and s["calls"] == {"reward": 16} and s["config"]["steps"] == 2
    assert s["series"]["critic/score/mean"] == [[1, -0.5], [2, 0.25]]
    assert s["final"]["other/tag"] == 4.0 and "other/tag" not in s["series"]
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 2
    assert not_finite(s) == ["actor/pg_loss"]


def test_plot_reward_writes_a_png(tmp_path):
    from verlings.capstone.summary import plot_reward

    summary = {"series": {"critic/score/mean": [[i, -0.5 + i / 20] for i in range(1, 31)]}}
    png = plot_reward(summary, tmp_path / "curve.png", title="test")
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_reward({"series": {}}, tmp_path / "none.png") is None


def test_toy_task_rows_are_seeded_and_in_verls_schema(tmp_path):
    import re

    import pandas as pd

    from verlings.capstone.data import TASK, make_rows, write_task

    assert make_rows(5, seed=1) == make_rows(5, seed=1) != make_rows(5, seed=2)
    row = make_rows(1, seed=0)[0]
    a, b = map(int, re.findall(r"\d+", row["prompt"][0]["content"])[:2])
    assert row["prompt"][0]["content"] == TASK.question(a, b)
    assert row["reward_model"]["ground_truth"] == TASK.answer(a, b)
    train, _ = write_task(tmp_path, n_train=8, n_val=2)
    df = pd.read_parquet(train)
    assert list(df.columns) == ["data_source", "prompt", "ability", "reward_model", "extra_info"] and len(df) == 8


def test_tiny_model_is_seeded_and_loads_with_transformers(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from verlings.capstone.model import ARCH, model_path

    path = model_path(tmp_path / "model")
    assert model_path(tmp_path / "model") == path  # cached
    model = AutoModelForCausalLM.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    cfg = model.config
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim) \
        == (ARCH["hidden_size"], 2, 2, 1, 64)
    assert cfg.vocab_size == len(tok) and tok.chat_template
    again = AutoModelForCausalLM.from_pretrained(model_path(tmp_path / "again"))
    assert all((a == b).all() for a, b in zip(model.state_dict().values(), again.state_dict().values()))


@pytest.mark.timeout(330)  # a fresh process importing verl: over a minute on a busy 2-core machine
def test_cpu_platform_plugin_in_a_fresh_process():
    """What verl sees with the plug-in: a CPU 'GPU' on Ray, gloo, fixed flops, a working process group."""
    code = textwrap.dedent("""
        import os, torch, torch.distributed as dist
        from verl.utils.device import get_device_name, get_nccl_backend, get_resource_name, get_device_id
        from verl.utils.device import get_torch_device
        from verl.utils.flops_counter import get_device_flops
        print(get_device_name(), get_nccl_backend(), get_resource_name(), get_device_id())
        dev = get_torch_device()
        dev.empty_cache(); dev.set_rng_state(dev.get_rng_state()); free, total = dev.mem_get_info()
        assert 0 < free <= total
        print(get_device_flops(unit="G"))
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT="29517")
        from verl.utils.distributed import initialize_global_process_group_ray
        initialize_global_process_group_ray(timeout_second=60)
        t = torch.ones(2); dist.all_reduce(t); print(t.tolist())
        torch.nn.Linear(2, 2).to(get_device_id())
    """)
    env = {**os.environ, "VERL_PLATFORM": "cpu", "VERL_USE_EXTERNAL_MODULES": "verlings.capstone.cpu_platform",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "cpu gloo GPU cpu"
    assert float(lines[1]) == pytest.approx(448.0)
    assert lines[2] == "[1.0, 1.0]"  # world size 1


@pytest.mark.timeout(330)  # a fresh process importing verl: over a minute on a busy 2-core machine
def test_vllm_weight_repacking_is_switched_off_after_import(tmp_path):
    """The hook replaces vLLM's CPU GEMM dispatch once the module is imported (a stand-in module here)."""
    pkg = tmp_path / "vllm" / "model_executor" / "layers"
    pkg.mkdir(parents=True)
    for d in (tmp_path / "vllm", tmp_path / "vllm" / "model_executor", pkg):
        (d / "__init__.py").write_text("")
    (pkg / "utils.py").write_text("def dispatch_cpu_unquantized_gemm(layer, remove_weight):\n    layer.packed = True\n")
    code = textwrap.dedent("""
        import torch
        import verlings.capstone.cpu_platform
        from vllm.model_executor.layers import utils
        layer = torch.nn.Linear(2, 2)
        utils.dispatch_cpu_unquantized_gemm(layer, remove_weight=True)
        assert not hasattr(layer, "packed") and layer.cpu_linear is torch.nn.functional.linear
        assert layer.weight.numel() == 4
        print("ok")
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


def test_after_import_runs_once_on_first_import(tmp_path, monkeypatch):
    from verlings.capstone.hooks import after_import

    (tmp_path / "verlings_hook_probe.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []
    after_import("verlings_hook_probe", lambda m: seen.append(m.VALUE))
    assert seen == []
    import verlings_hook_probe  # noqa: F401

    assert seen == [1]
    after_import("verlings_hook_probe", lambda m: seen.append(2))  # already imported: runs at once
    assert seen == [1, 2]
    monkeypatch.delitem(sys.modules, "verlings_hook_probe")


def test_preflight_names_the_exercise_to_fix(tmp_path):
    import shutil

    from verlings.paths import EXERCISES

    assert learner_checks.preflight(SOLUTIONS) is None
    for chapter in ("03", "04"):
        shutil.copytree(SOLUTIONS / chapter, tmp_path / chapter)
    (tmp_path / "06").mkdir()
    shutil.copy(EXERCISES / "06" / "capstone.py", tmp_path / "06" / "capstone.py")  # the stub
    message = learner_checks.preflight(tmp_path)
    assert message is not None and "06.overrides" in message and "NotImplementedError" in message


def test_install_script_is_valid_bash():
    script = ROOT / "scripts" / "install_rollout_engine.sh"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
def test_timeout_stops_every_process_of_the_run_even_in_other_process_groups(tmp_path):
    """Ray workers run in process groups of their own: a timeout must still stop them."""
    pidfile = tmp_path / "child.pid"
    child = f"import os, time; os.setpgid(0, 0); open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
    driver = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(600)"
    p = launcher.Plan(command=[sys.executable, "-c", driver], env=dict(os.environ), cwd=tmp_path, device="cpu")
    _, timed_out, wall = sessions.execute(p, timeout_s=8)
    assert timed_out and wall < 60
    assert pidfile.is_file(), "the stand-in Ray worker did not start"
    assert not _alive(int(pidfile.read_text())), "a process of the run outlived it"
    assert (tmp_path / "run.log").is_file() and (tmp_path / "command.sh").is_file()


# --- precision and vLLM sleep mode per path ---------------------------------------------------------


@pytest.mark.parametrize(("device", "sleep"), [("cpu", False), ("gpu", False), ("gpu", True)])
def test_rollout_precision_and_sleep_mode_per_path(tmp_path, device, sleep):
    from verl.utils.config import validate_config

    p = plan(RunConfig(vllm_sleep=sleep), tmp_path, device, learner_overrides=LEARNER, python="py",
             model=tmp_path / "model")
    cfg = _compose(p.command[3:])
    rollout = cfg.actor_rollout_ref.rollout
    # GPU: bf16 rollout like verl's examples (FlashAttention in vLLM); CPU: fp32 (vLLM's CPU backend)
    assert rollout.dtype == ("bfloat16" if device == "gpu" else "float32")
    # the actor keeps fp32 weights and computes in bf16 (verl's default FSDP mixed precision)
    assert cfg.actor_rollout_ref.actor.fsdp_config.model_dtype == "fp32"
    assert cfg.actor_rollout_ref.actor.fsdp_config.get("mixed_precision") is None
    assert rollout.enable_sleep_mode is sleep and rollout.free_cache_engine is sleep
    assert cfg.trainer.use_v1 is True
    assert cfg.actor_rollout_ref.model.override_config.attn_implementation == "sdpa"
    validate_config(config=cfg, use_reference_policy=False, use_critic=False)


def test_cpu_path_never_sleeps_even_when_asked(tmp_path):
    p = plan(RunConfig(vllm_sleep=True), tmp_path, "cpu", learner_overrides=LEARNER, python="py")
    assert "actor_rollout_ref.rollout.free_cache_engine=False" in p.command
    assert "+actor_rollout_ref.rollout.enable_sleep_mode=False" in p.command


def test_legacy_trainer_config_still_composes(tmp_path):
    """use_v1=False (verl's deprecated RayPPOTrainer) stays a valid config for comparison."""
    from verl.utils.config import validate_config

    p = plan(RunConfig(use_v1=False), tmp_path, "cpu", learner_overrides=LEARNER, python="py")
    cfg = _compose(p.command[3:])
    assert cfg.trainer.use_v1 is False and cfg.ray_kwargs.ray_init.num_cpus == 8
    validate_config(config=cfg, use_reference_policy=False, use_critic=False)


def test_cli_vllm_sleep_flag_reaches_the_gpu_command(tmp_path, monkeypatch):
    from verlings.capstone import cli

    seen = {}

    def fake_run(config, out, **kw):
        seen["config"], seen["device"] = config, kw.get("device")
        raise SystemExit(0)

    monkeypatch.setattr(cli, "run", fake_run)
    monkeypatch.setattr(cli, "preflight", lambda root: None)
    monkeypatch.setattr(cli, "engine_missing", lambda **kw: None)
    with pytest.raises(SystemExit):
        cli.main(["--solutions", "--device", "gpu", "--vllm-sleep", "on", "--out", str(tmp_path / "o")])
    assert seen["device"] == "gpu" and seen["config"].vllm_sleep is True
    assert "+actor_rollout_ref.rollout.enable_sleep_mode=True" in plan(
        seen["config"], tmp_path, "gpu", learner_overrides=LEARNER, python="py").command


def test_gpu_path_does_not_say_cpu_cores(tmp_path, monkeypatch, capsys):
    from verlings.capstone import cli

    monkeypatch.setattr(cli, "run", lambda *a, **kw: (_ for _ in ()).throw(SystemExit(0)))
    monkeypatch.setattr(cli, "preflight", lambda root: None)
    monkeypatch.setattr(cli, "engine_missing", lambda **kw: None)
    with pytest.raises(SystemExit):
        cli.main(["--solutions", "--device", "gpu", "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert "GPU path" in out and "CPU cores" not in out
