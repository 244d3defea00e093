"""Known-wrong variants of exercises/02/gsm8k_data.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

WRAP = """
_reference_make_row = make_row

def make_row(example, index, split, style="chat"):
    row = _reference_make_row(example, index, split, style)
    {change}
    return row
"""


def row_mutant(name, exercise, change):
    return Mutant(name, exercise, "gsm8k_data", WRAP.format(change=change))


MUTANTS = [
    # Found by `python -m verlings.dev never-failing 02`: an unknown style falls through the
    # if/elif/else chain into the last branch instead of raising
    Mutant("unknown_style_falls_through", "02.make_row", "gsm8k_data", replace={
        "if style not in STYLES:\n        raise ValueError": "if False:\n        raise ValueError"}),
    Mutant("ground_truth_keeps_commas", "02.extract_answer", "gsm8k_data", """
        def extract_gsm8k_answer(answer):
            return re.search(r"#### (\\-?[0-9\\.\\,]+)", answer).group(1)
        """),
    Mutant("ground_truth_last_line_split", "02.extract_answer", "gsm8k_data", """
        def extract_gsm8k_answer(answer):
            return answer.split("####")[-1].strip().replace(",", "")
        """),
    row_mutant("prompt_plain_string", "02.make_row", 'row["prompt"] = row["prompt"][-1]["content"]'),
    row_mutant("prompt_without_instruction", "02.make_row",
               'row["prompt"] = [{"role": "user", "content": example["question"]}]'),
    row_mutant("missing_ground_truth", "02.make_row", 'row["reward_model"] = {"style": "rule"}'),
    row_mutant("ground_truth_is_the_whole_answer", "02.make_row",
               'row["reward_model"] = {"style": "rule", "ground_truth": example["answer"]}'),
    row_mutant("wrong_ability", "02.make_row", 'row["ability"] = "gsm8k"'),
    row_mutant("wrong_data_source", "02.make_row", 'row["data_source"] = "gsm8k"'),
    row_mutant("extra_info_without_index", "02.make_row", 'row["extra_info"].pop("index")'),
    row_mutant("extra_info_question_with_instruction", "02.make_row",
               'row["extra_info"]["question"] = row["prompt"][-1]["content"]'),
    row_mutant("index_from_zero_always", "02.make_row", 'row["extra_info"]["index"] = 0'),
    row_mutant("tool_without_agent_name", "02.row_styles", 'row.pop("agent_name", None)'),
    row_mutant("tools_kwargs_at_top_level", "02.row_styles",
               'row["tools_kwargs"] = row["extra_info"].pop("tools_kwargs", {}) if style == "tool" else None\n'
               '    row = {k: v for k, v in row.items() if v is not None}'),
    row_mutant("multi_turn_with_chat_instruction", "02.row_styles",
               'row["prompt"][-1]["content"] = row["prompt"][-1]["content"].replace("`####`", \'"####"\')'),
    row_mutant("system_style_without_system_message", "02.row_styles",
               'row["prompt"] = row["prompt"][-1:] if style == "system" else row["prompt"]'),
    Mutant("write_parquet_json_strings", "02.write_parquet", "gsm8k_data", """
        def write_parquet(rows, path):
            import json

            import pandas as pd

            Path(path).parent.mkdir(parents=True, exist_ok=True)
            frame = pd.DataFrame([{k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in r.items()}
                                  for r in rows])
            frame.to_parquet(path)
        """),
    Mutant("write_parquet_accepts_no_rows", "02.write_parquet", "gsm8k_data", """
        def write_parquet(rows, path):
            import pyarrow as pa
            import pyarrow.parquet as pq

            Path(path).parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows), path)
        """),
    # verl itself must reject these: the integration test is the one that fails
    row_mutant("verl_prompt_plain_string", "02.verl_loads", 'row["prompt"] = row["prompt"][-1]["content"]'),
    row_mutant("verl_extra_info_without_index", "02.verl_loads", 'row["extra_info"].pop("index")'),
]


@pytest.mark.timeout(300)  # runs an exercise's graded tests in-process; some import verl
@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
