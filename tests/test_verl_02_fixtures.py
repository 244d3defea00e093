"""The shared fixtures made for chapter 02 and reused later: the GSM8K generator and the local tokenizer."""

import json
import re

import pytest

from verlings.fixtures import gsm8k
from verlings.fixtures import tokenizer as tok_mod
from verlings.fixtures.tokenizer import local_tokenizer, tokenizer_path

ANNOTATION = re.compile(r"<<([-0-9+*/. ]+)=(-?[0-9.]+)>>")


def test_generate_is_seeded():
    assert gsm8k.generate(30, seed=1) == gsm8k.generate(30, seed=1)
    assert gsm8k.generate(30, seed=1) != gsm8k.generate(30, seed=2)
    assert gsm8k.noisy_completions(30, seed=1) == gsm8k.noisy_completions(30, seed=1)


def test_generated_arithmetic_is_right():
    templates = set()
    for row in gsm8k.generate(2000, seed=0):
        assert set(row) == {"question", "answer"}
        lines = row["answer"].splitlines()
        assert re.fullmatch(r"#### -?[0-9][0-9,]*", lines[-1]), lines[-1]
        final = int(lines[-1][5:].replace(",", ""))
        annotations = ANNOTATION.findall(row["answer"])
        assert annotations, row["answer"]
        for expr, value in annotations:
            # our own digits-and-operators text; divisions are rounded to 2 decimals
            assert abs(eval(expr) - float(value)) <= 0.005 + 1e-9, (expr, value)
        templates.add(row["question"].split()[1])
        assert str(final) in row["answer"].replace(",", "")
    assert len(templates) > 8


def test_generated_rows_cover_commas_money_and_negatives():
    answers = [r["answer"] for r in gsm8k.generate(500, seed=3)]
    assert any(re.search(r"#### [0-9]+,[0-9]{3}$", a) for a in answers)  # "#### 1,200"
    assert any("#### -" in a for a in answers)
    assert any("$" in a and "," in a for a in answers)


def test_noisy_completions_cover_every_kind():
    kinds = {c["kind"] for c in gsm8k.noisy_completions(1000, seed=0)}
    assert {"correct", "dollar", "several_hashes", "hidden_early", "cut_by_clip", "empty"} <= kinds


@pytest.fixture(scope="module")
def tok():
    return local_tokenizer()


def test_tokenizer_loads_with_auto_tokenizer_and_verl(tok):
    from transformers import AutoTokenizer
    from verl.utils import hf_tokenizer

    path = tokenizer_path()
    text = gsm8k.generate(1, seed=4)[0]["answer"]
    for other in (AutoTokenizer.from_pretrained(str(path)), hf_tokenizer(str(path))):
        assert other.encode(text) == tok.encode(text)
        assert other.chat_template == tok.chat_template


def test_tokenizer_special_tokens(tok):
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    assert tok.eos_token_id != tok.pad_token_id
    for t in [*tok_mod.SPECIAL_TOKENS, *tok_mod.TOOL_TOKENS]:
        assert len(tok.encode(t, add_special_tokens=False)) == 1, t
    ids = tok.encode("<tool_call>\n{}\n</tool_call><|im_end|>", add_special_tokens=False)
    # Qwen2.5 behaviour: tool tags survive skip_special_tokens, the chat tokens do not
    assert tok.decode(ids, skip_special_tokens=True) == "<tool_call>\n{}\n</tool_call>"
    assert len(tok) <= tok_mod.VOCAB_SIZE + len(tok_mod.TOOL_TOKENS)


@pytest.mark.parametrize("text", [
    "Tom has 12 apples.\n#### 1,200", "  leading spaces", "ünïcödé 🙂 ＃ 漢字", "\t\n\r\n", "", "<|im_start|>",
])
def test_tokenizer_round_trips(tok, text):
    assert tok.decode(tok.encode(text, add_special_tokens=False)) == text


def test_chat_template_plain(tok):
    messages = [{"role": "user", "content": "2+2?"}]
    assert tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
    )
    messages = [{"role": "system", "content": "S"}, *messages, {"role": "assistant", "content": "4"}]
    assert tok.apply_chat_template(messages, tokenize=False) == (
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n"
    )


def test_chat_template_tools_qwen2_style(tok):
    tool = {"type": "function", "function": {"name": "calc", "description": "Add.", "parameters": {
        "type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}}}
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "calc", "arguments": {"x": "1+1"}}}]},
        {"role": "tool", "content": "2"},
        {"role": "tool", "content": "3"},
    ]
    text = tok.apply_chat_template(messages, tools=[tool], add_generation_prompt=True, tokenize=False)
    assert text == (
        "<|im_start|>system\nYou are a helpful assistant.\n\n# Tools\n\nYou may call one or more functions to "
        "assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:"
        f"\n<tools>\n{json.dumps(tool)}\n</tools>\n\nFor each function call, return a json object with function "
        "name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
        '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\nq<|im_end|>\n"
        '<|im_start|>assistant\n<tool_call>\n{"name": "calc", "arguments": {"x": "1+1"}}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\n<tool_response>\n2\n</tool_response>\n<tool_response>\n3\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_verl_chat_template_helpers(tok):
    from verl.utils.tokenizer.chat_template import initialize_system_prompt, initialize_turn_separator

    system = initialize_system_prompt(tok)
    assert tok.decode(system) == "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    assert tok.decode(initialize_turn_separator(tok)) == "\n"


def test_tokenizer_is_deterministic_and_cached(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    tokenizer_path(first)
    tokenizer_path(second)
    assert (first / "tokenizer.json").read_bytes() == (second / "tokenizer.json").read_bytes()
    mtime = (first / "tokenizer.json").stat().st_mtime_ns
    local_tokenizer(first)  # loaded, not rebuilt
    assert (first / "tokenizer.json").stat().st_mtime_ns == mtime


def test_vocabulary_is_pinned(tok):
    fresh = tok_mod.build_tokenizer()
    assert tok_mod.vocab_fingerprint(fresh) == tok_mod.vocab_fingerprint(tok) == tok_mod.VOCAB_FINGERPRINT, (
        "the course tokenizer's ids changed: if that is intended, bump VERSION, update VOCAB_FINGERPRINT and "
        "regenerate every golden that stores token ids (python -m verlings.goldens 05)"
    )
