"""Known-wrong variants of exercises/01/tensorboard_log.py: each must fail at least one graded test.

Each mutant's code is appended to solutions/01/tensorboard_log.py, so it may use the module's
imports (math, np, pd, Path) and wrap the reference functions.
"""

import pytest

from verlings.dev.mutants import Mutant, caught


def _read(*, accumulator="EventAccumulator(str(path), size_guidance={SCALARS: 0})",
          files='sorted(p for p in root.rglob("*") if p.is_file() and "tfevents" in p.name)',
          dedup='.sort_values("wall_time", kind="stable").drop_duplicates(["tag", "step"], keep="last")',
          order='["tag", "step"]', missing='raise FileNotFoundError(f"no event files under {root}")') -> str:
    return f"""
def read_scalars(logdir):
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

    root = Path(logdir)
    if not root.exists():
        raise FileNotFoundError(root)
    files = [root] if root.is_file() else {files}
    if not files:
        {missing}
    rows = []
    for path in files:
        acc = {accumulator}
        acc.Reload()
        for tag in acc.Tags()[SCALARS]:
            rows += [(e.wall_time, e.step, tag, e.value) for e in acc.Scalars(tag)]
    frame = pd.DataFrame(rows, columns=["wall_time", *COLUMNS]){dedup}
    frame = frame.sort_values({order}, kind="stable").reset_index(drop=True)
    return frame[COLUMNS].astype({{"step": "int64", "value": "float64"}})
"""


def _smooth(update="last = last * weight + (1.0 - weight) * value", out="last / (1.0 - weight**count)",
            nonfinite="out.append(value)\n            continue", check="not 0.0 <= weight < 1.0") -> str:
    return f"""
def smooth(values, weight=0.6):
    if {check}:
        raise ValueError(weight)
    out, last, count = [], 0.0, 0
    for value in values:
        value = float(value)
        if not math.isfinite(value):
            {nonfinite}
        {update}
        count += 1
        out.append({out})
    return np.asarray(out, dtype=np.float64)
"""


MUTANTS = [
    # ---------------------------------------------------------- read_scalars
    Mutant("default_size_guidance_samples", "01.read_scalars", "tensorboard_log",
           _read(accumulator="EventAccumulator(str(path))")),
    Mutant("not_recursive", "01.read_scalars", "tensorboard_log",
           _read(files='sorted(p for p in root.glob("*") if p.is_file() and "tfevents" in p.name)')),
    Mutant("repeated_steps_kept", "01.read_scalars", "tensorboard_log", _read(dedup="")),
    Mutant("first_written_wins", "01.read_scalars", "tensorboard_log",
           _read(dedup='.sort_values("wall_time", kind="stable").drop_duplicates(["tag", "step"], keep="first")')),
    Mutant("sorted_by_step_then_tag", "01.read_scalars", "tensorboard_log", _read(order='["step", "tag"]')),
    Mutant("empty_folder_is_an_empty_run", "01.read_scalars", "tensorboard_log",
           _read(missing="return pd.DataFrame(columns=COLUMNS)")),
    Mutant("index_not_reset", "01.read_scalars", "tensorboard_log", """
_reference_read = read_scalars

def read_scalars(logdir):
    frame = _reference_read(logdir)
    frame.index = frame.index + 1
    return frame
"""),
    # ---------------------------------------------------------- smooth
    Mutant("no_debias", "01.smooth", "tensorboard_log", _smooth(out="last")),
    Mutant("weight_swapped", "01.smooth", "tensorboard_log",
           _smooth(update="last = last * (1.0 - weight) + weight * value")),
    Mutant("nan_poisons_the_average", "01.smooth", "tensorboard_log", _smooth(nonfinite="pass")),
    Mutant("nan_counted", "01.smooth", "tensorboard_log",
           _smooth(nonfinite="out.append(value)\n            count += 1\n            continue")),
    Mutant("weight_not_checked", "01.smooth", "tensorboard_log", _smooth(check="False")),
    Mutant("first_point_seeds_the_average", "01.smooth", "tensorboard_log", """
def smooth(values, weight=0.6):
    if not 0.0 <= weight < 1.0:
        raise ValueError(weight)
    out, last = [], None
    for value in values:
        value = float(value)
        if not math.isfinite(value):
            out.append(value)
            continue
        last = value if last is None else last * weight + (1.0 - weight) * value
        out.append(last)
    return np.asarray(out, dtype=np.float64)
"""),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
