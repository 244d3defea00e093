"""Graded tests for exercises/02/data_check.py: hand-made good and bad parquet files."""

import json
import statistics

import pytest

from verlings import learner_module
from verlings.testing import assert_close, assert_equal, hint_line

check = learner_module("02", "data_check")


def _row(i, question=None, **changes):
    question = question or f"Question number {i}: what is {i} + {i}?"
    row = {
        "data_source": "openai/gsm8k",
        "prompt": [{"role": "user", "content": question}],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": str(2 * i)},
        "extra_info": {"split": "train", "index": i},
    }
    row.update(changes)
    return row


def _write(path, rows, schema=None):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def _found(report):
    return sorted({(p.code, p.row) for p in report.problems}, key=str)


def _expect_problems(report, expected, exercise, why):
    """Every expected (code, row) is reported, and nothing is reported on the clean rows."""
    found = _found(report)
    missing = [e for e in expected if e not in found]
    assert_equal(missing, [], what=f"problems not reported (reported: {found})", why=why)
    rows = {row for _, row in expected}
    extra = [f for f in found if f[1] not in rows]
    assert_equal(extra, [], what="problems reported on rows that are fine")


def course_tokenizer():
    """The course's local tokenizer (transformers is imported only when a test needs it)."""
    from verlings.fixtures.tokenizer import local_tokenizer

    return local_tokenizer()


@pytest.mark.exercise("02.check_dataset")
def test_check_dataset_clean_file(tmp_path):
    rows = [_row(i) for i in range(5)] + [_row(5, data_source="lighteval/MATH")]
    path = _write(tmp_path / "clean.parquet", rows)
    report = check.check_dataset(path=path)
    assert_equal(_found(report), [], what="problems in a clean file")
    assert report.ok, "report.ok is False for a clean file"
    assert_equal((report.num_rows, report.columns), (6, list(rows[0])), what="(num_rows, columns)",
                 why="columns in file order, as pyarrow lists them")
    assert_equal(report.stats.get("rows"), 6, what="stats['rows']")
    assert_equal(report.stats.get("data_sources"), {"openai/gsm8k": 5, "lighteval/MATH": 1},
                 what="stats['data_sources']")
    chars = [len(r["prompt"][0]["content"]) for r in rows]
    expected = {"min": min(chars), "mean": statistics.fmean(chars), "max": max(chars)}
    seen = report.stats.get("prompt_chars")
    assert seen is not None and set(seen) >= {"min", "mean", "max"}, f"stats['prompt_chars'] is {seen!r}"
    assert_close([seen["min"], seen["mean"], seen["max"]], list(expected.values()), what="stats['prompt_chars']",
                 why="total characters of the message contents, per row")
    assert "prompt_tokens" not in report.stats, "stats['prompt_tokens'] without a tokenizer"


@pytest.mark.exercise("02.check_dataset")
def test_check_dataset_row_problems(tmp_path):
    rows = [_row(i) for i in range(9)]
    rows[1]["prompt"] = []                                                     # empty_prompt
    rows[2]["prompt"] = [{"role": "system", "content": "  "}, {"role": "user", "content": "Hi?"}]  # empty_prompt
    rows[3]["prompt"] = [{"role": "robot", "content": "Beep?"}]               # bad_role
    rows[4]["reward_model"] = {"style": "rule", "ground_truth": None}         # missing_ground_truth
    rows[5]["reward_model"] = {"style": "rule", "ground_truth": ""}           # missing_ground_truth
    rows[7]["prompt"] = [dict(m) for m in rows[6]["prompt"]]                  # duplicate_prompt (of row 6)
    rows[8]["data_source"] = ""                                               # bad_type
    report = check.check_dataset(path=_write(tmp_path / "rows.parquet", rows))
    _expect_problems(
        report,
        [("empty_prompt", 1), ("empty_prompt", 2), ("bad_role", 3), ("missing_ground_truth", 4),
         ("missing_ground_truth", 5), ("duplicate_prompt", 7), ("bad_type", 8)],
        "02.check_dataset", "see the table of problem codes in the module docstring",
    )
    assert not report.ok, "report.ok is True although there are problems"
    assert ("duplicate_prompt", 6) not in _found(report), "flag the LATER copy of a duplicate, not the first"


@pytest.mark.exercise("02.check_dataset")
def test_check_dataset_missing_ground_truth_key(tmp_path):
    rows = [_row(i) for i in range(3)]
    rows[1]["reward_model"] = {"style": "rule"}  # no ground_truth key at all
    report = check.check_dataset(path=_write(tmp_path / "gt.parquet", rows))
    _expect_problems(report, [("missing_ground_truth", 1)], "02.check_dataset",
                     "reward_model.get('ground_truth') is None: the reward manager would crash")


@pytest.mark.exercise("02.check_dataset")
@pytest.mark.parametrize(("column", "value"), [
    ("prompt", "What is 2 + 2?"),               # a plain string instead of chat messages
    ("data_source", 7),
    ("reward_model", "42"),
])
def test_check_dataset_ill_typed_column(tmp_path, column, value):
    rows = [_row(i, **{column: value}) for i in range(3)]
    report = check.check_dataset(path=_write(tmp_path / "typed.parquet", rows))
    _expect_problems(report, [("bad_type", i) for i in range(3)], "02.check_dataset",
                     f"{column} has the wrong type in every row: one bad_type per row")


@pytest.mark.exercise("02.check_dataset")
def test_check_dataset_missing_columns(tmp_path):
    rows = [{k: v for k, v in _row(i).items() if k not in ("reward_model", "data_source")} for i in range(2)]
    report = check.check_dataset(path=_write(tmp_path / "cols.parquet", rows))
    seen = sorted((p.code, p.row, p.column) for p in report.problems if p.code == "missing_column")
    assert_equal(seen, [("missing_column", None, "data_source"), ("missing_column", None, "reward_model")],
                 what="missing_column problems (code, row, column)",
                 why="one file-level problem (row None) per missing required column")


@pytest.mark.exercise("02.check_dataset")
def test_check_dataset_no_rows(tmp_path):
    import pyarrow as pa

    schema = pa.Table.from_pylist([_row(0)]).schema
    report = check.check_dataset(path=_write(tmp_path / "none.parquet", [], schema=schema))
    assert_equal(_found(report), [("no_rows", None)], what="problems of a file with a schema but no rows")
    assert_equal(report.num_rows, 0, what="num_rows")


class WordTokenizer:
    """A stand-in for a Hugging Face tokenizer, with lengths you can work out by hand.

    One token per word, 4 per message (the <|im_start|>role ... <|im_end|> frame), 3 for the
    generation prompt. Like transformers 5, tokenize=True returns a dict with "input_ids".
    """

    def apply_chat_template(self, conversation, add_generation_prompt=False, tokenize=True, **kwargs):
        n = sum(4 + len(m["content"].split()) for m in conversation) + (3 if add_generation_prompt else 0)
        if not tokenize:
            return "w " * n
        return {"input_ids": list(range(n)), "attention_mask": [1] * n}


@pytest.mark.exercise("02.check_dataset")
def test_check_dataset_token_lengths_like_verl(tmp_path):
    # Row i has 3 + 3i words: "Tell me" + "more" * 3i + "please." → 4 + (3 + 3i) + 3 = 10 + 3i tokens.
    rows = [_row(i, question="Tell me " + "more " * (3 * i) + "please.") for i in range(6)]
    lengths = [10 + 3 * i for i in range(6)]  # 10, 13, 16, 19, 22, 25
    path = _write(tmp_path / "long.parquet", rows)
    report = check.check_dataset(path=path, tokenizer=WordTokenizer(), max_prompt_length=19)
    _expect_problems(report, [("prompt_too_long", 4), ("prompt_too_long", 5)], "02.check_dataset",
                     "count tokens like verl: apply_chat_template(..., add_generation_prompt=True, tokenize=True)"
                     " and take ['input_ids'] of the result")
    assert ("prompt_too_long", 3) not in _found(report), (
        "row 3 has exactly max_prompt_length=19 tokens; verl keeps prompts with length <= max_prompt_length"
    )
    seen = report.stats.get("prompt_tokens")
    assert seen is not None, "stats['prompt_tokens'] is missing although a tokenizer was given"
    assert_close([seen["min"], seen["mean"], seen["max"]], [10, statistics.fmean(lengths), 25],
                 what="stats['prompt_tokens'] (min, mean, max)",
                 why="lengths with the chat template and the generation prompt, as verl counts them")


@pytest.mark.slow
@pytest.mark.exercise("02.check_dataset")
def test_check_dataset_with_the_course_tokenizer(tmp_path):
    rows = [_row(i, question="Tell me " + "more " * (3 * i) + "please.") for i in range(4)]
    path = _write(tmp_path / "t.parquet", rows)
    check.check_dataset(path=path)  # your code first: a stub fails before transformers is imported
    tokenizer = course_tokenizer()
    lengths = []
    for r in rows:  # what verl's RLHFDataset measures
        ids = tokenizer.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=True)
        lengths.append(len(ids["input_ids"] if hasattr(ids, "keys") else ids))
    report = check.check_dataset(path=path, tokenizer=tokenizer, max_prompt_length=lengths[2])
    _expect_problems(report, [("prompt_too_long", 3)], "02.check_dataset",
                     "with a real tokenizer: apply_chat_template(..., add_generation_prompt=True, tokenize=True)")
    assert_close(report.stats["prompt_tokens"]["max"], max(lengths), what="stats['prompt_tokens']['max']")


@pytest.mark.exercise("02.check_dataset")
def test_check_dataset_max_length_needs_tokenizer(tmp_path):
    path = _write(tmp_path / "ok.parquet", [_row(0)])
    with pytest.raises(ValueError):
        check.check_dataset(path=path, max_prompt_length=10)


def _bad_files(tmp_path):
    good = _write(tmp_path / "good.parquet", [_row(i) for i in range(20)]).read_bytes()
    files = {
        "missing": tmp_path / "does-not-exist.parquet",
        "folder": tmp_path / "a-folder.parquet",
        "empty": tmp_path / "empty.parquet",
        "csv": tmp_path / "csv.parquet",
        "json": tmp_path / "json.parquet",
        "truncated": tmp_path / "truncated.parquet",
        "bad_footer": tmp_path / "bad-footer.parquet",
    }
    files["folder"].mkdir()
    files["empty"].write_bytes(b"")
    files["csv"].write_text("data_source,prompt\nopenai/gsm8k,What is 2+2?\n")
    files["json"].write_text(json.dumps([_row(0)]))
    files["truncated"].write_bytes(good[: len(good) // 2])
    # PAR1 at both ends, but the footer length (4 bytes before the last PAR1) is absurd
    files["bad_footer"].write_bytes(good[:-8] + b"\xff\xff\xff\x7f" + b"PAR1")
    return files


BAD = ["missing", "folder", "empty", "csv", "json", "truncated", "bad_footer"]


@pytest.mark.exercise("02.check_errors")
@pytest.mark.parametrize("kind", BAD)
def test_check_dataset_unreadable_file_raises_data_check_error(tmp_path, kind):
    path = _bad_files(tmp_path)[kind]
    try:
        check.check_dataset(path=path)
    except check.DataCheckError as exc:
        message = str(exc)
    except NotImplementedError:
        raise
    except Exception as exc:
        pytest.fail(f"a {kind} file raised {type(exc).__name__}: {str(exc)[:200]} — catch it and raise "
                    "DataCheckError with a one-line message instead\n" + hint_line())
    else:
        pytest.fail(f"check_dataset accepted a {kind} file ({path.name}); it must raise DataCheckError")
    assert "\n" not in message.strip(), f"the message has several lines: {message!r}"
    assert path.name in message, f"the message should name the file {path.name!r}: {message!r}"


def _run_main(capsys, argv):
    code = check.main(argv=[str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.exercise("02.check_cli")
@pytest.mark.parametrize("kind", BAD)
def test_main_unreadable_file_one_line_exit_2(tmp_path, capsys, kind):
    path = _bad_files(tmp_path)[kind]
    code, out, err = _run_main(capsys, [path])
    assert_equal(code, 2, what=f"exit status for a {kind} file",
                 why="2 = the file cannot be read (catch DataCheckError)")
    lines = [line for line in err.splitlines() if line.strip()]
    assert_equal(len(lines), 1, what=f"lines on stderr for a {kind} file ({err!r})",
                 why="one line: 'error: <message>'")
    assert lines[0].startswith("error:"), f"stderr should start with 'error:': {lines[0]!r}"
    assert "Traceback" not in out + err, "a traceback was printed"


@pytest.mark.exercise("02.check_cli")
def test_main_exit_status_follows_the_report(tmp_path, capsys):
    clean = _write(tmp_path / "clean.parquet", [_row(i) for i in range(3)])
    code, out, _ = _run_main(capsys, [clean])
    assert_equal(code, 0, what="exit status for a clean file")
    assert out.strip(), "print the report's summary to stdout"
    rows = [_row(i) for i in range(3)]
    rows[2]["prompt"] = [{"role": "robot", "content": "Beep?"}]
    code, out, _ = _run_main(capsys, [_write(tmp_path / "bad.parquet", rows)])
    assert_equal(code, 1, what="exit status for a file with problems")
    assert "bad_role" in out, f"the summary should list the problems (bad_role); stdout was:\n{out}"


@pytest.mark.slow
@pytest.mark.exercise("02.check_cli")
def test_main_max_prompt_length(tmp_path, capsys):
    path = _write(tmp_path / "p.parquet", [_row(i) for i in range(3)])
    code, _, err = _run_main(capsys, [path, "--max-prompt-length", "5"])
    assert_equal(code, 2, what="exit status for --max-prompt-length without --tokenizer")
    assert len([line for line in err.splitlines() if line.strip()]) == 1, f"one line on stderr, got {err!r}"
    from verlings.fixtures.tokenizer import tokenizer_path

    tokenizer_dir = tokenizer_path()  # the course tokenizer's folder
    code, out, _ = _run_main(capsys, [path, "--max-prompt-length", "5", "--tokenizer", tokenizer_dir])
    assert_equal(code, 1, what="exit status when every prompt is longer than 5 tokens")
    assert "prompt_too_long" in out, f"stdout should list prompt_too_long problems:\n{out}"
