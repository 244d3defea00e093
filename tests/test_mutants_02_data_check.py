"""Known-wrong variants of exercises/02/data_check.py: each must fail at least one graded test.

Each mutant is an edit of solutions/02/data_check.py (``replace={reference text: wrong text}``);
``code`` (appended to the edited copy) only where an edit cannot say it.
"""

import pytest

from verlings.dev.mutants import Mutant, caught

CHECK, ERRORS, CLI = "02.check_dataset", "02.check_errors", "02.check_cli"
DUPLICATE = "add(Problem(\"duplicate_prompt\", i, \"prompt\", f\"same prompt as row {seen[key]}\"))"
ERROR_CLASS = "    \"\"\"The file cannot be read as a parquet table at all; the message is one line.\"\"\"\n"


def error_text(expression: str) -> dict[str, str]:
    """An edit that makes every DataCheckError read ``expression`` of its one-line text ``text``."""
    return {ERROR_CLASS: ERROR_CLASS + "\n    def __str__(self) -> str:\n        text = super().__str__()\n"
            f"        return {expression}\n"}


MUTANTS = [
    # Found by `python -m verlings.dev never-failing 02`: graded tests no variant made fail.
    # max_prompt_length without a tokenizer silently skips the length check
    Mutant("length_check_skipped_without_tokenizer", CHECK, "data_check", replace={
        "if max_prompt_length is not None and tokenizer is None:": "if False:"}),
    # columns listed alphabetically, not in the file's order
    Mutant("columns_sorted", CHECK, "data_check", replace={
        "columns=list(columns))": "columns=sorted(columns))"}),
    # findings that a checker misses
    Mutant("duplicates_not_detected", CHECK, "data_check", replace={DUPLICATE: "pass"}),
    Mutant("roles_not_checked", CHECK, "data_check", replace={"if bad_roles:": "if False:"}),
    Mutant("empty_list_prompt_accepted", CHECK, "data_check",
           replace={"add(Problem(\"empty_prompt\", i, \"prompt\", \"prompt has no messages\"))": "pass"}),
    Mutant("blank_content_accepted", CHECK, "data_check",
           replace={"if any(not m[\"content\"].strip() for m in prompt):": "if False:"}),
    Mutant("empty_string_ground_truth_accepted", CHECK, "data_check", replace={
        "reward_model.get(\"ground_truth\") in (None, \"\"):": "reward_model.get(\"ground_truth\") is None:"}),
    Mutant("string_prompt_accepted", CHECK, "data_check", replace={
        "add(Problem(\"bad_type\", i, \"prompt\", \"prompt must be a list of {role, content} messages, \"\n"
        "                            f\"got {type(prompt).__name__}\"))": "pass"}),
    Mutant("missing_columns_not_reported", CHECK, "data_check",
           replace={"add(Problem(\"missing_column\", None, name, f\"required column {name!r} is missing\"))": "pass"}),
    Mutant("no_rows_not_reported", CHECK, "data_check",
           replace={"add(Problem(\"no_rows\", None, None, \"the file has no rows\"))": "pass"}),
    # the first of two equal prompts flagged as well
    Mutant("both_duplicates_flagged", CHECK, "data_check", replace={
        DUPLICATE: DUPLICATE + "\n"
        "                    add(Problem(\"duplicate_prompt\", seen[key], \"prompt\", \"duplicate\"))"}),
    Mutant("too_long_off_by_one", CHECK, "data_check",
           replace={"n > max_prompt_length:": "n >= max_prompt_length:"}),
    Mutant("length_without_generation_prompt", CHECK, "data_check", replace={
        "add_generation_prompt=True, tokenize=True)": "add_generation_prompt=False, tokenize=True)"}),
    Mutant("length_of_the_batch_encoding", CHECK, "data_check",
           replace={"    if hasattr(ids, \"keys\"):": "    if False:"}),
    Mutant("no_token_stats", CHECK, "data_check",
           replace={"report.stats[\"prompt_tokens\"] = _spread(tokens)": "pass"}),
    # the file read with no checks of its own: pyarrow's errors reach the caller
    Mutant("pyarrow_errors_leak", ERRORS, "data_check", replace={
        "    if not path.exists():\n": "    import pyarrow.parquet as pq\n\n    table = pq.read_table(path)\n"
        "    return table.to_pylist(), table.column_names\n    if not path.exists():\n"}),
    Mutant("multi_line_error", ERRORS, "data_check", replace=error_text("\"cannot read the file\\n  \" + text")),
    Mutant("error_without_file_name", ERRORS, "data_check", replace=error_text("text.split(\": \", 1)[1]")),
    # the command line lets a DataCheckError out as a traceback
    Mutant("cli_traceback", CLI, "data_check",
           replace={"    except DataCheckError as exc:\n": "    except () as exc:\n"}),
    Mutant("cli_exit_0_on_problems", CLI, "data_check", replace={"return 0 if report.ok else 1": "return 0"}),
    Mutant("cli_error_on_stdout", CLI, "data_check", code="""
        _reference_main = main

        def main(argv=None):
            import contextlib

            with contextlib.redirect_stderr(sys.stdout):
                return _reference_main(argv)
        """),
]


@pytest.mark.timeout(300)  # runs an exercise's graded tests in-process; some import verl
@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
