"""Known-wrong variants of exercises/01/tensorboard_log.py: each must fail at least one graded test.

Each mutant is an edit of solutions/01/tensorboard_log.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

READ = "01.read_scalars"
SMOOTH = "01.smooth"
DEDUP = ".drop_duplicates([\"tag\", \"step\"], keep=\"last\")"
UPDATE = "last = last * weight + (1.0 - weight) * value"
DEBIASED = "out.append(last / (1.0 - weight**count))"
SKIP_NONFINITE = "            out.append(value)\n            continue\n"

MUTANTS = [
    # ---------------------------------------------------------- read_scalars
    Mutant("default_size_guidance_samples", READ, "tensorboard_log",
           replace={"EventAccumulator(str(path), size_guidance={SCALARS: 0})": "EventAccumulator(str(path))"}),
    Mutant("not_recursive", READ, "tensorboard_log", replace={"root.rglob(\"*\")": "root.glob(\"*\")"}),
    Mutant("repeated_steps_kept", READ, "tensorboard_log",
           replace={".sort_values(\"wall_time\", kind=\"stable\")" + DEDUP: ""}),
    Mutant("first_written_wins", READ, "tensorboard_log", replace={DEDUP: DEDUP.replace("last", "first")}),
    Mutant("sorted_by_step_then_tag", READ, "tensorboard_log",
           replace={"sort_values([\"tag\", \"step\"]": "sort_values([\"step\", \"tag\"]"}),
    Mutant("empty_folder_is_an_empty_run", READ, "tensorboard_log", replace={
        "raise FileNotFoundError(f\"no TensorBoard event files (*tfevents*) under {root}\")":
        "return pd.DataFrame(columns=COLUMNS)"}),
    Mutant("index_not_reset", READ, "tensorboard_log", replace={
        "    return frame[COLUMNS]": "    frame.index = frame.index + 1\n    return frame[COLUMNS]"}),
    # ---------------------------------------------------------- smooth
    Mutant("no_debias", SMOOTH, "tensorboard_log", replace={DEBIASED: "out.append(last)"}),
    Mutant("weight_swapped", SMOOTH, "tensorboard_log",
           replace={UPDATE: "last = last * (1.0 - weight) + weight * value"}),
    Mutant("nan_poisons_the_average", SMOOTH, "tensorboard_log", replace={SKIP_NONFINITE: "            pass\n"}),
    Mutant("nan_counted", SMOOTH, "tensorboard_log", replace={
        SKIP_NONFINITE: "            out.append(value)\n            count += 1\n            continue\n"}),
    Mutant("weight_not_checked", SMOOTH, "tensorboard_log", replace={"if not 0.0 <= weight < 1.0:": "if False:"}),
    Mutant("first_point_seeds_the_average", SMOOTH, "tensorboard_log", replace={
        "last, count = 0.0, 0": "last, count = None, 0",
        UPDATE: "last = value if last is None else " + UPDATE.removeprefix("last = "),
        DEBIASED: "out.append(last)"}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
