"""Known-wrong variants of exercises/02/gsm8k_data.py: each must fail at least one graded test.

Each mutant is an edit of solutions/02/gsm8k_data.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

ROW, STYLES = "02.make_row", "02.row_styles"
PLAIN_STRING_PROMPT = {"\"prompt\": prompt,": "\"prompt\": prompt[-1][\"content\"],"}
NO_INDEX = {"{\"split\": split, \"index\": index, ": "{\"split\": split, "}
GROUND_TRUTH = "{\"style\": \"rule\", \"ground_truth\": solution}"

MUTANTS = [
    # Found by `python -m verlings.dev never-failing 02`: an unknown style falls through the
    # if/elif/else chain into the last branch instead of raising
    Mutant("unknown_style_falls_through", ROW, "gsm8k_data", replace={
        "if style not in STYLES:\n        raise ValueError": "if False:\n        raise ValueError"}),
    Mutant("ground_truth_keeps_commas", "02.extract_answer", "gsm8k_data",
           replace={"return match.group(1).replace(\",\", \"\")": "return match.group(1)"}),
    Mutant("ground_truth_last_line_split", "02.extract_answer", "gsm8k_data", replace={
        "    match = re.search(": "    return answer.split(\"####\")[-1].strip().replace(\",\", \"\")\n"
        "    match = re.search("}),
    Mutant("prompt_plain_string", ROW, "gsm8k_data", replace=PLAIN_STRING_PROMPT),
    Mutant("prompt_without_instruction", ROW, "gsm8k_data", replace={
        "prompt = [{\"role\": \"user\", \"content\": question_raw + \" \" + INSTRUCTION}]":
        "prompt = [{\"role\": \"user\", \"content\": question_raw}]"}),
    Mutant("missing_ground_truth", ROW, "gsm8k_data", replace={GROUND_TRUTH: "{\"style\": \"rule\"}"}),
    Mutant("ground_truth_is_the_whole_answer", ROW, "gsm8k_data",
           replace={GROUND_TRUTH: GROUND_TRUTH.replace("solution", "answer_raw")}),
    Mutant("wrong_ability", ROW, "gsm8k_data", replace={"\"ability\": ABILITY,": "\"ability\": \"gsm8k\","}),
    Mutant("wrong_data_source", ROW, "gsm8k_data",
           replace={"{\"data_source\": DATA_SOURCE}": "{\"data_source\": \"gsm8k\"}"}),
    Mutant("extra_info_without_index", ROW, "gsm8k_data", replace=NO_INDEX),
    Mutant("extra_info_question_with_instruction", ROW, "gsm8k_data",
           replace={"\"question\": question_raw}": "\"question\": prompt[-1][\"content\"]}"}),
    Mutant("index_from_zero_always", ROW, "gsm8k_data", replace={"\"index\": index,": "\"index\": 0,"}),
    Mutant("tool_without_agent_name", STYLES, "gsm8k_data",
           replace={"        row[\"agent_name\"] = AGENT_NAME  # which verl agent loop rolls this prompt out\n": ""}),
    Mutant("tools_kwargs_at_top_level", STYLES, "gsm8k_data",
           replace={"extra_info[\"tools_kwargs\"] = {TOOL_NAME:": "row[\"tools_kwargs\"] = {TOOL_NAME:"}),
    Mutant("multi_turn_with_chat_instruction", STYLES, "gsm8k_data",
           replace={"question_raw + \" \" + INSTRUCTION_BACKTICKS": "question_raw + \" \" + INSTRUCTION"}),
    Mutant("system_style_without_system_message", STYLES, "gsm8k_data",
           replace={"            {\"role\": \"system\", \"content\": SYSTEM_PROMPT},\n": ""}),
    Mutant("write_parquet_json_strings", "02.write_parquet", "gsm8k_data", replace={
        "    import pyarrow as pa\n": "    import json\n\n    import pyarrow as pa\n",
        "pa.Table.from_pylist(rows)": "pa.Table.from_pylist([{k: json.dumps(v) if isinstance(v, list | dict) else v"
        " for k, v in r.items()} for r in rows])"}),
    Mutant("write_parquet_accepts_no_rows", "02.write_parquet", "gsm8k_data",
           replace={"    if not rows:\n": "    if False:\n"}),
    # verl itself must reject these: the integration test is the one that fails
    Mutant("verl_prompt_plain_string", "02.verl_loads", "gsm8k_data", replace=PLAIN_STRING_PROMPT),
    Mutant("verl_extra_info_without_index", "02.verl_loads", "gsm8k_data", replace=NO_INDEX),
]


@pytest.mark.timeout(300)  # runs an exercise's graded tests in-process; some import verl
@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
