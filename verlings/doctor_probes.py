"""What the doctor reads from the machine: package metadata, torch's build, GPUs, disk, the
engine's environment, the jail. Each is a small function that ``tests/test_doctor.py`` replaces
(on ``verlings.doctor``, which calls them by these names) to simulate a machine.

Nothing here imports torch or verl: a missing or broken install is what the doctor reports.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

from verlings import device
from verlings.engine_imports import engine_import_problem, engine_python

ROOT = Path(__file__).resolve().parent.parent
ENGINE_DIR = device.engine_dir()  # $VERLINGS_ENGINE_DIR or .verlings/engine

# The rest of the course's runtime packages, when pyproject.toml cannot be read.
FALLBACK_DEPENDENCIES = [
    "cachetools",
    "numpy",
    "pandas",
    "pyarrow",
    "rich>=13",
    "watchfiles>=0.21",
    "math-verify",
    "fastapi",
    "uvicorn",
    "httpx",
    "tokenizers",
    "tensorboard",
    "matplotlib",
]


def dist_version(name: str) -> str | None:
    """Installed version of a distribution, or None (no import of the package itself)."""
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None
    except Exception:  # a broken dist-info must not crash the doctor
        return None


def dist_requires(name: str) -> list[str]:
    try:
        return list(md.requires(name) or [])
    except Exception:
        return []


def python_version() -> tuple[int, int, int]:
    return tuple(sys.version_info[:3])  # type: ignore[return-value]


def torch_cuda_build() -> str | None:
    """The CUDA version torch was built for ('12.8'), '' for a CPU build, None if unknown.

    Read from ``torch/version.py`` without importing torch.
    """
    try:
        spec = importlib.util.find_spec("torch")
    except Exception:
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    version_file = Path(next(iter(spec.submodule_search_locations))) / "version.py"
    try:
        text = version_file.read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"^cuda\s*(?::[^=\n]*)?=\s*(?:'([^']*)'|\"([^\"]*)\"|(None))", text, re.MULTILINE)
    if not match:
        return None
    return "" if match.group(3) else (match.group(1) or match.group(2) or "")


def gpus() -> list[dict[str, object]]:
    """CUDA GPUs from ``nvidia-smi`` (name, total_mib, free_mib); empty when there is none."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            try:
                found.append({"name": parts[0], "total_mib": int(float(parts[1])), "free_mib": int(float(parts[2]))})
            except ValueError:
                found.append({"name": parts[0], "total_mib": 0, "free_mib": 0})
    return found


def free_disk_bytes(path: Path = ROOT) -> int:
    return shutil.disk_usage(path).free


def engine_dist_version(name: str) -> str | None:
    """A distribution's version inside the optional rollout-engine environment (.verlings/engine)."""
    for site in sorted(ENGINE_DIR.glob("lib/python3*/site-packages")):
        try:
            for dist in md.distributions(path=[str(site)]):
                dist_name = (dist.metadata["Name"] or "").lower().replace("_", "-")
                if dist_name == name:
                    return dist.version
        except Exception:
            return None
    return None


def engine_imports(device_name: str) -> str | None:
    """None when the engine's python imports what the capstone run imports, else why not and the fix.

    The one check that runs code: a subprocess of the engine's python (10–30 s on 2 cores).
    """
    print(
        f"doctor: importing what chapter 06's run imports in {engine_python(ENGINE_DIR)} (10–30 s)…",
        file=sys.stderr,
        flush=True,
    )
    return engine_import_problem(device_name, ENGINE_DIR)


def course_dependencies() -> list[str]:
    """Runtime requirements from pyproject.toml (the fallback list when it cannot be read)."""
    try:
        import tomllib

        data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        deps = data["project"]["dependencies"]
        return [str(d) for d in deps] if isinstance(deps, list) else list(FALLBACK_DEPENDENCIES)
    except Exception:
        return list(FALLBACK_DEPENDENCIES)


def jail_problem() -> str | None:
    """Why chapter 04's jail cannot run a jailed ``print(1)`` here, or ``None`` when it can.

    Asks the reference sandbox (solutions/04/sandbox.py, standard library only), so the answer does
    not depend on the learner's own ``bwrap_args``.
    """
    path = ROOT / "solutions" / "04" / "sandbox.py"
    if not path.exists():
        return None if shutil.which("bwrap") else "bwrap is not installed"
    try:
        spec = importlib.util.spec_from_file_location("_verlings_doctor_sandbox", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.jail_problem()
    except Exception as exc:  # the check must report, never crash the doctor
        return f"the jail check failed: {exc}"
