"""Known-wrong variants of exercises/02/data_check.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

FILTER = """
_reference_check = check_dataset

def check_dataset(path, tokenizer=None, max_prompt_length=None):
    report = _reference_check(path, tokenizer, max_prompt_length)
    report.problems = [p for p in report.problems if not ({condition})]
    return report
"""


def dropping(name, exercise, condition):
    """A checker that misses some findings."""
    return Mutant(name, exercise, "data_check", FILTER.format(condition=condition))


MUTANTS = [
    # Found by `python -m verlings.dev never-failing 02`: graded tests no variant made fail.
    # max_prompt_length without a tokenizer silently skips the length check
    Mutant("length_check_skipped_without_tokenizer", "02.check_dataset", "data_check", replace={
        "if max_prompt_length is not None and tokenizer is None:": "if False:"}),
    # columns listed alphabetically, not in the file's order
    Mutant("columns_sorted", "02.check_dataset", "data_check", replace={
        "columns=list(columns))": "columns=sorted(columns))"}),
    dropping("duplicates_not_detected", "02.check_dataset", 'p.code == "duplicate_prompt"'),
    dropping("roles_not_checked", "02.check_dataset", 'p.code == "bad_role"'),
    dropping("empty_list_prompt_accepted", "02.check_dataset", 'p.code == "empty_prompt" and p.row == 1'),
    dropping("blank_content_accepted", "02.check_dataset", 'p.code == "empty_prompt" and p.row == 2'),
    dropping("empty_string_ground_truth_accepted", "02.check_dataset",
             'p.code == "missing_ground_truth" and p.row == 5'),
    dropping("string_prompt_accepted", "02.check_dataset", 'p.code == "bad_type" and p.column == "prompt"'),
    dropping("missing_columns_not_reported", "02.check_dataset", 'p.code == "missing_column"'),
    dropping("no_rows_not_reported", "02.check_dataset", 'p.code == "no_rows"'),
    Mutant("both_duplicates_flagged", "02.check_dataset", "data_check", """
        _reference_check = check_dataset

        def check_dataset(path, tokenizer=None, max_prompt_length=None):
            report = _reference_check(path, tokenizer, max_prompt_length)
            firsts = [Problem("duplicate_prompt", int(p.message.rsplit(" ", 1)[1]), "prompt", "duplicate")
                      for p in report.problems if p.code == "duplicate_prompt"]
            report.problems += firsts
            return report
        """),
    Mutant("too_long_off_by_one", "02.check_dataset", "data_check", """
        _reference_check = check_dataset

        def check_dataset(path, tokenizer=None, max_prompt_length=None):
            limit = None if max_prompt_length is None else max_prompt_length - 1
            return _reference_check(path, tokenizer, limit)
        """),
    Mutant("length_without_generation_prompt", "02.check_dataset", "data_check", """
        def _token_count(tokenizer, messages):
            ids = tokenizer.apply_chat_template(messages, add_generation_prompt=False, tokenize=True)
            return len(ids["input_ids"] if hasattr(ids, "keys") else ids)
        """),
    Mutant("length_of_the_batch_encoding", "02.check_dataset", "data_check", """
        def _token_count(tokenizer, messages):
            return len(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True))
        """),
    Mutant("no_token_stats", "02.check_dataset", "data_check", """
        _reference_check = check_dataset

        def check_dataset(path, tokenizer=None, max_prompt_length=None):
            report = _reference_check(path, tokenizer, max_prompt_length)
            report.stats.pop("prompt_tokens", None)
            return report
        """),
    Mutant("pyarrow_errors_leak", "02.check_errors", "data_check", """
        def _read_rows(path):
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            return table.to_pylist(), table.column_names
        """),
    Mutant("multi_line_error", "02.check_errors", "data_check", """
        _reference_read = _read_rows

        def _read_rows(path):
            try:
                return _reference_read(path)
            except DataCheckError as exc:
                raise DataCheckError(f"cannot read the file\\n  {exc}") from None
        """),
    Mutant("error_without_file_name", "02.check_errors", "data_check", """
        _reference_read = _read_rows

        def _read_rows(path):
            try:
                return _reference_read(path)
            except DataCheckError as exc:
                raise DataCheckError(str(exc).split(": ", 1)[1]) from None
        """),
    Mutant("cli_traceback", "02.check_cli", "data_check", """
        def main(argv=None):
            args = argparse.ArgumentParser()
            args.add_argument("file")
            args.add_argument("--max-prompt-length", type=int)
            args.add_argument("--tokenizer")
            args = args.parse_args(argv)
            report = check_dataset(args.file)
            print(report.summary())
            return 0 if report.ok else 1
        """),
    Mutant("cli_exit_0_on_problems", "02.check_cli", "data_check", """
        _reference_main = main

        def main(argv=None):
            return min(_reference_main(argv), 0) if _reference_main(argv) == 1 else _reference_main(argv)
        """),
    Mutant("cli_error_on_stdout", "02.check_cli", "data_check", """
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
