"""Known-wrong variants of exercises/05/tool_parser.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

MUTANTS = [
    # Subtle (issue 24): json.loads on "<tool_call>" + 5000 "[" raises RecursionError, not a JSONDecodeError.
    Mutant("parser_recursion_error_escapes", "05.parse_hermes", "tool_parser", replace={
        "except (ValueError, KeyError, TypeError, IndexError, RecursionError):":
        "except (ValueError, KeyError, TypeError, IndexError):"}),
    Mutant(
        "parser_keeps_malformed_json",
        "05.parse_hermes",
        "tool_parser",
        """
        def parse_hermes(text):
            if "<tool_call>" not in text or "</tool_call>" not in text:
                return text, []
            calls = []
            for body in TOOL_CALL_RE.findall(text):
                try:
                    call = json.loads(body)
                    calls.append({"name": call["name"], "arguments": json.dumps(call["arguments"], ensure_ascii=False)})
                except Exception:
                    calls.append({"name": "", "arguments": body})  # passes the broken call on
            return TOOL_CALL_RE.sub("", text), calls
        """,
    ),
    Mutant(
        "parser_raises_on_malformed_json",
        "05.parse_hermes",
        "tool_parser",
        """
        def parse_hermes(text):
            calls = [json.loads(body) for body in TOOL_CALL_RE.findall(text)]
            calls = [{"name": c["name"], "arguments": json.dumps(c["arguments"], ensure_ascii=False)} for c in calls]
            return TOOL_CALL_RE.sub("", text), calls
        """,
    ),
    # "cleaning" a reply without calls: verl hands the text on exactly as the model wrote it
    Mutant("parser_strips_the_end_token", "05.parse_hermes", "tool_parser",
           replace={"        return text, []\n": '        return text.removesuffix("<|im_end|>"), []\n'}),
    Mutant(
        "parser_leaves_markup_in_content",
        "05.parse_hermes",
        "tool_parser",
        """
        _solution_parse_hermes = parse_hermes

        def parse_hermes(text):
            _, calls = _solution_parse_hermes(text)
            return text, calls
        """,
    ),
    Mutant(
        "parser_removes_only_the_json",
        "05.parse_hermes",
        "tool_parser",
        """
        _solution_parse_hermes = parse_hermes

        def parse_hermes(text):
            _, calls = _solution_parse_hermes(text)
            return re.sub(r"<tool_call>.*?</tool_call>", "<tool_call></tool_call>", text, flags=re.DOTALL), calls
        """,
    ),
    Mutant(
        "parser_greedy_regex",
        "05.parse_hermes",
        "tool_parser",
        """
        TOOL_CALL_RE = re.compile(r"<tool_call>(.*)</tool_call>", re.DOTALL)
        """,
    ),
    Mutant(
        "parser_without_dotall",
        "05.parse_hermes",
        "tool_parser",
        """
        TOOL_CALL_RE = re.compile(r"<tool_call>(.*?)</tool_call>")
        """,
    ),
    Mutant(
        "parser_arguments_as_dict",
        "05.parse_hermes",
        "tool_parser",
        """
        _solution_parse_hermes = parse_hermes

        def parse_hermes(text):
            content, calls = _solution_parse_hermes(text)
            return content, [{"name": c["name"], "arguments": json.loads(c["arguments"])} for c in calls]
        """,
    ),
    Mutant(
        "parser_arguments_raw_substring",
        "05.parse_hermes",
        "tool_parser",
        """
        _solution_parse_hermes = parse_hermes

        def parse_hermes(text):
            content, calls = _solution_parse_hermes(text)
            return content, [{"name": c["name"], "arguments": json.dumps(json.loads(c["arguments"]))} for c in calls]
        """,
    ),
    Mutant(
        "parser_strips_content",
        "05.parse_hermes",
        "tool_parser",
        """
        _solution_parse_hermes = parse_hermes

        def parse_hermes(text):
            content, calls = _solution_parse_hermes(text)
            return content.strip(), calls
        """,
    ),
    Mutant(
        "parser_accepts_any_name",
        "05.parse_hermes",
        "tool_parser",
        """
        def parse_hermes(text):
            if "<tool_call>" not in text or "</tool_call>" not in text:
                return text, []
            calls = []
            for body in TOOL_CALL_RE.findall(text):
                try:
                    call = json.loads(body)
                    arguments = json.dumps(call["arguments"], ensure_ascii=False)
                    calls.append({"name": str(call["name"]), "arguments": arguments})
                except Exception:
                    continue
            return TOOL_CALL_RE.sub("", text), calls
        """,
    ),
    Mutant(
        "parser_missing_arguments_as_empty",
        "05.parse_hermes",
        "tool_parser",
        """
        def parse_hermes(text):
            if "<tool_call>" not in text or "</tool_call>" not in text:
                return text, []
            calls = []
            for body in TOOL_CALL_RE.findall(text):
                try:
                    call = json.loads(body)
                    if not isinstance(call["name"], str):
                        continue
                    arguments = json.dumps(call.get("arguments", {}), ensure_ascii=False)
                    calls.append({"name": call["name"], "arguments": arguments})
                except Exception:
                    continue
            return TOOL_CALL_RE.sub("", text), calls
        """,
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
