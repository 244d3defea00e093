"""Can the rollout engine's python run chapter 06? It imports what the capstone run imports, in a
subprocess (importing vLLM and verl's trainer takes 10–30 s on 2 cores), and says what failed and
the fix. Used by the doctor; which engine build fits the machine is :mod:`verlings.device`'s job.

Standard library only, like :mod:`verlings.device`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from verlings.device import FIX_ENGINE, FIX_INSTALL, ROOT, engine_dir

# What `python -m verl.trainer.main_ppo` with the course's plug-ins imports before it starts Ray:
# the engine's python must import all of it, with the course's torch (never one of its own).
CAPSTONE_IMPORTS = ("torch", "transformers", "vllm", "verl", "verl.trainer.main_ppo", "verlings.capstone.probe")
CPU_IMPORTS = ("verlings.capstone.cpu_platform",)
COURSE_OWNED = ("torch", "verl", "verlings")  # missing from the engine's view: the course install is at fault

_IMPORT_CHECK = """
import importlib, json, os, sys
engine = os.path.realpath(sys.argv[1])
for name in sys.argv[3:]:
    try:
        importlib.import_module(name)
    except BaseException as exc:
        print(json.dumps({"module": name, "error": f"{type(exc).__name__}: {exc}"[:500]}))
        sys.exit(0)
import torch
if os.path.realpath(torch.__file__).startswith(engine + os.sep):
    print(json.dumps({"module": "torch", "error": f"a second torch inside the engine: {torch.__file__}"}))
elif sys.argv[2] == "gpu" and not torch.version.cuda:
    print(json.dumps({"module": "torch", "error": f"torch {torch.__version__} is not a CUDA build"}))
else:
    print(json.dumps({"ok": True}))
"""


def engine_python(directory: Path | None = None) -> str:
    """The engine environment's python when it exists, else this interpreter (vLLM in the main env)."""
    candidate = (engine_dir() if directory is None else Path(directory)) / "bin" / "python"
    return str(candidate) if candidate.is_file() else sys.executable


def engine_import_problem(device: str, directory: Path | None = None, timeout: float = 300) -> str | None:
    """None when the engine's python imports what the capstone run imports; else what failed and its fix.

    Runs a subprocess (importing vLLM and verl's trainer takes 10–30 s on 2 cores), with the
    course root on ``PYTHONPATH`` as the launcher sets it.
    """
    directory = engine_dir() if directory is None else Path(directory)
    python = engine_python(directory)
    modules = [*CAPSTONE_IMPORTS, *(CPU_IMPORTS if device == "cpu" else ())]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    try:
        proc = subprocess.run(
            [python, "-c", _IMPORT_CHECK, str(directory), device, *modules],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return f"importing the capstone's modules in {python} took over {timeout:.0f} s — run: {FIX_ENGINE}"
    except OSError as exc:
        return f"cannot run the engine's python {python}: {exc} — run: {FIX_ENGINE}"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    try:
        result = json.loads(lines[-1]) if lines else {}
    except ValueError:
        result = {}
    if result.get("ok"):
        return None
    module = str(result.get("module") or "?")
    error = str(result.get("error") or (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1])
    fix = FIX_INSTALL if module.split(".")[0] in COURSE_OWNED and "second torch" not in error else FIX_ENGINE
    return f"the engine's python ({python}) cannot import {module}: {error} — run: {fix}"
