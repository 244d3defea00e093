"""Graded tests for exercises/02/gsm8k_data.py.

Expected rows are written out by hand from verl's preprocessing scripts
(examples/data_preprocess/gsm8k.py, gsm8k_multiturn_w_interaction.py, gsm8k_tool_agent_loop.py);
the last test loads your parquet file with verl's own RLHFDataset.
"""

import pytest

from verlings import learner_module
from verlings.fixtures.gsm8k import generate
from verlings.testing import assert_equal, hint_line

data = learner_module("02", "gsm8k_data")

QUESTION = "Ann has 3 bags of 400 marbles. How many marbles does she have?"
ANSWER = "Ann has 3 * 400 = <<3*400=1200>>1,200 marbles.\n#### 1,200"
EXAMPLE = {"question": QUESTION, "answer": ANSWER}
# verl's texts, copied from its scripts (the stub has them as constants)
CHAT_Q = QUESTION + ' Let\'s think step by step and output the final answer after "####".'
BACKTICK_Q = QUESTION + " Let's think step by step and output the final answer after `####`."
SYSTEM = ("You are a math expert. You are given a question and you need to solve it step by step. "
          "Put your final answer in the format of `#### <answer>`.")
SYSTEM_MULTI_TURN = ("You are a math expert. You are given a question and you need to solve it step by step. "
                     "You should rethinking carefully if user point out your answer is wrong. "
                     "Put your final answer in the format of `#### <answer>`.")
SYSTEM_TOOL = ("You are a math expert. You are given a question and you need to solve it step by step. "
               "Reasoning step by step before any tool call. "
               "You should use the `calc_gsm8k_reward` tool after step by step solving the question, "
               "before generate final answer at least once and refine your answer if necessary. "
               "Put your final answer in the format of `#### <answer>`.")
BASE_EXTRA = {"split": "train", "index": 5, "answer": ANSWER, "question": QUESTION}
REWARD_MODEL = {"style": "rule", "ground_truth": "1200"}  # "#### 1,200" → "1200"

EXPECTED = {
    "chat": {
        "data_source": "openai/gsm8k",
        "prompt": [{"role": "user", "content": CHAT_Q}],
        "ability": "math",
        "reward_model": REWARD_MODEL,
        "extra_info": BASE_EXTRA,
    },
    "system": {
        "data_source": "openai/gsm8k",
        "prompt": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": CHAT_Q}],
        "ability": "math",
        "reward_model": REWARD_MODEL,
        "extra_info": BASE_EXTRA,
    },
    "multi_turn": {
        "data_source": "openai/gsm8k",
        "prompt": [{"role": "system", "content": SYSTEM_MULTI_TURN}, {"role": "user", "content": BACKTICK_Q}],
        "ability": "math",
        "reward_model": REWARD_MODEL,
        "extra_info": {**BASE_EXTRA,
                       "interaction_kwargs": {"name": "gsm8k", "query": BACKTICK_Q, "ground_truth": "1200"}},
    },
    "tool": {
        "data_source": "openai/gsm8k",
        "agent_name": "tool_agent",
        "prompt": [{"role": "system", "content": SYSTEM_TOOL}, {"role": "user", "content": BACKTICK_Q}],
        "ability": "math",
        "reward_model": REWARD_MODEL,
        "extra_info": {
            **BASE_EXTRA,
            "need_tools_kwargs": True,
            "tools_kwargs": {"calc_gsm8k_reward": {"create_kwargs": {"ground_truth": "1200"}}},
            "interaction_kwargs": {"query": BACKTICK_Q, "ground_truth": "1200"},
        },
    },
}


def _check_row(seen, expected):
    """Key by key first, so the message names the rule that is broken."""
    assert isinstance(seen, dict), f"make_row returned {type(seen).__name__}, expected a dict"
    assert_equal(sorted(seen), sorted(expected), what="the row's keys",
                 why="data_source, prompt, ability, reward_model, extra_info (+ agent_name for tool rows)")
    assert_equal(seen["data_source"], expected["data_source"], what="data_source",
                 why="verl picks the reward function by data_source: it must be exactly 'openai/gsm8k'")
    assert isinstance(seen["prompt"], list), (
        f"prompt is a {type(seen['prompt']).__name__}; verl expects a list of chat messages "
        "[{'role': ..., 'content': ...}] and applies the chat template itself\n"
        + hint_line()
    )
    assert_equal(seen["prompt"], expected["prompt"], what="prompt",
                 why="the messages for this style, the instruction appended after one space")
    assert_equal(seen["ability"], expected["ability"], what="ability")
    assert_equal(seen["reward_model"], expected["reward_model"], what="reward_model",
                 why="{'style': 'rule', 'ground_truth': <the answer after ####, commas removed>}")
    assert_equal(seen["extra_info"], expected["extra_info"], what="extra_info",
                 why="split, index, the RAW answer and question (no instruction), plus this style's extras")
    assert_equal(seen, expected, what="the whole row")


@pytest.mark.exercise("02.extract_answer")
@pytest.mark.parametrize(("answer", "expected"), [
    ("2 + 3 = <<2+3=5>>5\n#### 5", "5"),
    (ANSWER, "1200"),                                   # thousands comma removed
    ("It fell to <<1-21=-20>>-20 degrees.\n#### -20", "-20"),
    ("Half of 7 is 3.5\n#### 3.5", "3.5"),
    ("#### 12\nLater text #### 99", "12"),              # verl's re.search: the first match
], ids=["simple", "thousands", "negative", "decimal", "first_match"])
def test_extract_gsm8k_answer_hand_worked(answer, expected):
    assert_equal(data.extract_gsm8k_answer(answer=answer), expected, what=f"extract_gsm8k_answer({answer!r})",
                 why="the number after the first '#### ', commas removed")


@pytest.mark.exercise("02.extract_answer")
def test_extract_gsm8k_answer_generated():
    for row in generate(200, seed=21):
        # the generator writes exactly one "#### N" line, last; N may carry thousands commas
        expected = row["answer"].rsplit("#### ", 1)[1].replace(",", "")
        assert_equal(data.extract_gsm8k_answer(answer=row["answer"]), expected,
                     what=f"extract_gsm8k_answer(... {row['answer'][-40:]!r})")


@pytest.mark.exercise("02.extract_answer")
def test_extract_gsm8k_answer_without_hashes_raises():
    with pytest.raises(ValueError):
        data.extract_gsm8k_answer(answer="The answer is 42.")


@pytest.mark.exercise("02.make_row")
def test_make_row_chat():
    seen = data.make_row(example=dict(EXAMPLE), index=5, split="train", style="chat")
    _check_row(seen, EXPECTED["chat"])


@pytest.mark.exercise("02.make_row")
def test_make_row_default_style_is_chat():
    seen = data.make_row(example=dict(EXAMPLE), index=5, split="train")
    _check_row(seen, EXPECTED["chat"])


@pytest.mark.exercise("02.make_row")
def test_make_row_index_split_and_ground_truth_per_example():
    for i, example in enumerate(generate(30, seed=4)):
        row = data.make_row(example=dict(example), index=100 + i, split="test")
        assert_equal((row["extra_info"]["split"], row["extra_info"]["index"]), ("test", 100 + i),
                     what="(extra_info.split, extra_info.index)",
                     why="extra_info carries the split and the index you were given")
        assert_equal(row["reward_model"]["ground_truth"], example["answer"].rsplit("#### ", 1)[1].replace(",", ""),
                     what="reward_model.ground_truth")
        assert_equal(row["extra_info"]["question"], example["question"], what="extra_info.question",
                     why="the raw question, without the instruction")


@pytest.mark.exercise("02.make_row")
def test_make_row_unknown_style_raises():
    with pytest.raises(ValueError):
        data.make_row(example=dict(EXAMPLE), index=0, split="train", style="fancy")


@pytest.mark.exercise("02.row_styles")
@pytest.mark.parametrize("style", ["system", "multi_turn", "tool"])
def test_make_row_styles(style):
    seen = data.make_row(example=dict(EXAMPLE), index=5, split="train", style=style)
    _check_row(seen, EXPECTED[style])


@pytest.mark.exercise("02.write_parquet")
@pytest.mark.parametrize("style", ["chat", "tool"])
def test_write_parquet_round_trip(tmp_path, style):
    import pyarrow.parquet as pq

    rows = [EXPECTED[style], {**EXPECTED[style], "extra_info": {**EXPECTED[style]["extra_info"], "index": 6}}]
    path = tmp_path / "nested" / "folder" / "train.parquet"
    data.write_parquet(rows=rows, path=path)
    assert path.is_file(), f"{path} was not written (create missing parent folders)"
    table = pq.read_table(path)
    assert_equal(table.column_names, list(rows[0]), what="parquet columns",
                 why="one column per row key, in the rows' order")
    assert_equal(table.to_pylist(), rows, what="rows read back with pyarrow",
                 why="nested lists and dicts must stay lists and structs (pyarrow.Table.from_pylist)")
    prompt_type = str(table.schema.field("prompt").type)
    assert prompt_type.startswith("list<"), (
        f"the prompt column is stored as {prompt_type}, expected a list of structs (not JSON text)"
    )


@pytest.mark.exercise("02.write_parquet")
def test_write_parquet_accepts_a_string_path(tmp_path):
    import pyarrow.parquet as pq

    data.write_parquet(rows=[EXPECTED["chat"]], path=str(tmp_path / "one.parquet"))
    assert pq.read_table(tmp_path / "one.parquet").num_rows == 1


@pytest.mark.exercise("02.write_parquet")
def test_write_parquet_refuses_no_rows(tmp_path):
    with pytest.raises(ValueError):
        data.write_parquet(rows=[], path=tmp_path / "empty.parquet")


@pytest.mark.slow
@pytest.mark.exercise("02.verl_loads")
def test_verl_rlhf_dataset_loads_your_parquet(tmp_path, monkeypatch):
    """verl's own RLHFDataset reads your file: nothing may be filtered out or lost."""
    # your code first (a stub fails here, before verl's slow import)
    examples = generate(6, seed=8)
    files = {}
    for style in ("chat", "system", "multi_turn", "tool"):
        rows = [data.make_row(example=dict(e), index=i, split="train", style=style) for i, e in enumerate(examples)]
        files[style] = (tmp_path / f"{style}.parquet", rows)
        data.write_parquet(rows=rows, path=files[style][0])

    import datasets
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from verlings.fixtures.tokenizer import local_tokenizer

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    tokenizer = local_tokenizer()
    for style, (path, rows) in files.items():
        config = OmegaConf.create({"cache_dir": str(tmp_path / "verl-cache"), "max_prompt_length": 1024,
                                   "filter_overlong_prompts_workers": 1})
        dataset = RLHFDataset(data_files=str(path), tokenizer=tokenizer, config=config)
        assert_equal(len(dataset), len(rows), what=f"rows verl kept from your {style!r} file",
                     why="verl drops rows whose prompt it cannot template (e.g. a plain string prompt)")
        for i, row in enumerate(rows):
            item = dataset[i]
            assert_equal(item["raw_prompt"], row["prompt"], what=f"verl's raw_prompt, {style!r} row {i}")
            # What the rollout sees: verl's agent loop templates raw_prompt like this. A plain string
            # prompt passes every check above but renders as an empty conversation: no question at all.
            text = tokenizer.apply_chat_template(item["raw_prompt"], add_generation_prompt=True, tokenize=False)
            question = examples[i]["question"]
            assert question in text, (
                f"the templated prompt of {style!r} row {i} does not contain the question {question[:40]!r}...; "
                f"the model would see only:\n{text}\n(is the prompt a list of {{'role', 'content'}} messages?)\n"
                + hint_line()
            )
            assert_equal(item["index"], i, what=f"verl's index, {style!r} row {i}",
                         why="verl reads the index from extra_info.index (0 when it is missing)")
            assert_equal(item["reward_model"]["ground_truth"], row["reward_model"]["ground_truth"],
                         what=f"ground truth verl sees, {style!r} row {i}")
            if style == "tool":
                assert_equal(item["tools_kwargs"], row["extra_info"]["tools_kwargs"],
                             what=f"verl's tools_kwargs, row {i}", why="verl reads them from extra_info.tools_kwargs")
                assert_equal(item.get("agent_name"), "tool_agent", what="agent_name")
