"""Benchmark for exercises/04/sandbox.py: what the jail costs per run, and over a batch of code rewards.

Run through ``python grader.py bench 04``, or directly::

    python -m pytest benchmarks/bench_04_sandbox.py --benchmark-only -o python_files='bench_*.py'

Two groups, each with the jail (bubblewrap, the default) and with the weaker guard
(``jail=False``: prlimit, ``unshare`` namespaces when they work, the audit hook):

* ``run_code``: start-up and clean-up of one run of ``print(1)``, ten timed rounds after a warm-up;
* ``code_reward``: 64 programs (``print(int(input()) + k)``, one test case each), scored one after
  the other as a synchronous reward function would; two timed rounds after a warm-up, and every
  program must score 1.0.

The figures depend on the machine (2 shared cores in the course's reference setup); compare the
two modes with each other, measured in the same run.
"""

import pytest

from verlings.bench import implementation

IMPLS = ["yours", "reference"]
MODES = {"jail": True, "guard": False}
PROGRAMS = [
    (f"```python\nprint(int(input()) + {k})\n```", [{"input": "1\n", "output": f"{1 + k}\n"}]) for k in range(64)
]
pytestmark = pytest.mark.filterwarnings("ignore:Benchmark fixture was not used")


def _sandbox(impl: str, jail: bool):
    module = implementation(impl, "04", "sandbox")
    if jail and not module.jail_available():
        pytest.skip(f"no jail on this machine: {module.JAIL_FIX}")
    return module


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("mode", MODES)
def test_run_code_start_up(benchmark, mode, impl):
    sandbox = _sandbox(impl, MODES[mode])
    result = sandbox.run_code("print(1)\n", timeout_s=10.0, jail=MODES[mode])  # warm-up and correctness
    assert (result.stdout, result.exit_code) == ("1\n", 0), f"{impl}: {result!r}"
    benchmark.group = f"run_code('print(1)'), {mode}"
    benchmark.pedantic(
        lambda: sandbox.run_code("print(1)\n", timeout_s=10.0, jail=MODES[mode]), rounds=10, iterations=1
    )


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("mode", MODES)
def test_code_reward_64_programs(benchmark, mode, impl):
    sandbox = _sandbox(impl, MODES[mode])

    def one_round() -> float:
        return sum(sandbox.code_reward(s, cases, timeout_s=10.0, jail=MODES[mode]) for s, cases in PROGRAMS)

    assert one_round() == len(PROGRAMS), f"{impl}: not every program scored 1.0"
    benchmark.group = f"code_reward, {len(PROGRAMS)} programs one after the other, {mode}"
    benchmark.pedantic(one_round, rounds=2, iterations=1)
