"""``python grader.py capstone --ray-address ADDR``: the address reaches verl's ``ray.init``.

verl 0.9.1's ``run_ppo`` calls ``ray.init(**config.ray_kwargs.ray_init)`` (plus its runtime_env
defaults). These tests compose verl's own Hydra config from the launcher's command, then run
verl's ``run_ppo`` up to that ``ray.init`` (replaced by a recorder that stops the run there).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from verlings.capstone.launcher import RunConfig, plan
from verlings.paths import ROOT

ADDRESS = "10.1.2.3:6379"


def _compose(overrides: list[str]):
    import importlib.util

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    config_dir = Path(next(iter(importlib.util.find_spec("verl").submodule_search_locations))) / "trainer" / "config"
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base=None):
            return compose(config_name="ppo_trainer", overrides=overrides)
    finally:
        GlobalHydra.instance().clear()


class _Stop(Exception):
    pass


def _ray_init_kwargs(cfg, monkeypatch) -> dict:
    """What verl's run_ppo hands to ray.init for this config."""
    import ray
    from verl.trainer import main_ppo

    seen: dict = {}

    def recorder(**kwargs):
        seen.update(kwargs)
        raise _Stop

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", recorder)
    with pytest.raises(_Stop):
        main_ppo.run_ppo(cfg, task_runner_class=None)
    return seen


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_address_reaches_verls_ray_init(tmp_path, monkeypatch, device):
    p = plan(RunConfig(ray_address=ADDRESS), tmp_path, device, python="/opt/engine/bin/python",
             target=tmp_path / "target", model=tmp_path / "model")
    kwargs = _ray_init_kwargs(_compose(p.command[3:]), monkeypatch)
    assert kwargs["address"] == ADDRESS
    # Ray refuses num_cpus/num_gpus when joining a cluster; the cluster's `ray start` sets them
    assert kwargs.get("num_cpus") is None and kwargs.get("num_gpus") is None
    env_vars = kwargs["runtime_env"]["env_vars"]
    assert kwargs["runtime_env"]["py_executable"] == "/opt/engine/bin/python"
    # the workers of an existing cluster get the run's environment only through runtime_env
    assert env_vars["VERLINGS_TARGET"] == str((tmp_path / "target").resolve())
    assert env_vars["VERL_USE_EXTERNAL_MODULES"] == p.env["VERL_USE_EXTERNAL_MODULES"]
    assert env_vars["PYTHONPATH"] == p.env["PYTHONPATH"]
    if device == "cpu":
        assert env_vars["VERL_PLATFORM"] == "cpu" and "," in env_vars["VERL_USE_EXTERNAL_MODULES"]
    else:
        assert "VERL_PLATFORM" not in env_vars


def test_without_an_address_the_run_starts_its_own_cluster(tmp_path, monkeypatch):
    p = plan(RunConfig(), tmp_path, "cpu", python="py", model=tmp_path / "model")
    kwargs = _ray_init_kwargs(_compose(p.command[3:]), monkeypatch)
    # "local": a new cluster even when another job's `ray start` runs here (no address would join it)
    assert kwargs["address"] == "local" and kwargs["num_gpus"] == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("how", ["flag", "RAY_ADDRESS"])
def test_unreachable_cluster_is_one_clear_error_before_the_run(tmp_path, how):
    address = f"127.0.0.1:{_closed_port()}"
    args = ["--ray-address", address] if how == "flag" else []
    env = {**os.environ, "RAY_ADDRESS": address} if how == "RAY_ADDRESS" else dict(os.environ)
    proc = subprocess.run([sys.executable, str(ROOT / "grader.py"), "capstone", "--solutions", "--out",
                           str(tmp_path / "run"), *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"--ray-address {address}: no Ray cluster answers there" in proc.stdout
    assert not (tmp_path / "run").exists(), "nothing was started"
