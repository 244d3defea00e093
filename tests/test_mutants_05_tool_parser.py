"""Known-wrong variants of exercises/05/tool_parser.py: each must fail at least one graded test.

Each mutant is an edit of solutions/05/tool_parser.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

EX = "05.parse_hermes"
CAUGHT = "except (ValueError, KeyError, TypeError, IndexError, RecursionError):"
SKIP = "            continue  # verl logs the error and skips the call"
CONTENT = '    return TOOL_CALL_RE.sub("", text), calls'
NO_CALLS = "        return text, []\n"
PATTERN = 'r"<tool_call>(.*?)</tool_call>", re.DOTALL)'
FIELDS = 'name, arguments = call["name"], call["arguments"]'
DUMPS = "json.dumps(arguments, ensure_ascii=False)"

MUTANTS = [
    # Subtle (issue 24): json.loads on "<tool_call>" + 5000 "[" raises RecursionError, not a JSONDecodeError.
    Mutant("parser_recursion_error_escapes", EX, "tool_parser",
           replace={CAUGHT: "except (ValueError, KeyError, TypeError, IndexError):"}),
    # a call that does not parse is passed on, its body as the arguments
    Mutant("parser_keeps_malformed_json", EX, "tool_parser",
           replace={CAUGHT: "except Exception:", SKIP: '            name, arguments = "", body  #'}),
    # nothing caught: one malformed call raises out of the parser
    Mutant("parser_raises_on_malformed_json", EX, "tool_parser", replace={CAUGHT: "except ():"}),
    # "cleaning" a reply without calls: verl hands the text on exactly as the model wrote it
    Mutant("parser_strips_the_end_token", EX, "tool_parser",
           replace={NO_CALLS: '        return text.removesuffix("<|im_end|>"), []\n'}),
    Mutant("parser_leaves_markup_in_content", EX, "tool_parser", replace={CONTENT: "    return text, calls"}),
    Mutant("parser_removes_only_the_json", EX, "tool_parser",
           replace={CONTENT: '    return TOOL_CALL_RE.sub("<tool_call></tool_call>", text), calls'}),
    Mutant("parser_greedy_regex", EX, "tool_parser",
           replace={PATTERN: 'r"<tool_call>(.*)</tool_call>", re.DOTALL)'}),
    Mutant("parser_without_dotall", EX, "tool_parser", replace={PATTERN: 'r"<tool_call>(.*?)</tool_call>")'}),
    Mutant("parser_arguments_as_dict", EX, "tool_parser", replace={f"            arguments = {DUMPS}\n": ""}),
    # re-serialised with json's default ensure_ascii=True: non-ASCII arguments come out escaped
    Mutant("parser_arguments_raw_substring", EX, "tool_parser", replace={DUMPS: "json.dumps(arguments)"}),
    Mutant("parser_strips_content", EX, "tool_parser", replace={
        NO_CALLS: "        return text.strip(), []\n",
        CONTENT: '    return TOOL_CALL_RE.sub("", text).strip(), calls'}),
    Mutant("parser_accepts_any_name", EX, "tool_parser",
           replace={FIELDS: 'name, arguments = str(call["name"]), call["arguments"]'}),
    Mutant("parser_missing_arguments_as_empty", EX, "tool_parser",
           replace={FIELDS: 'name, arguments = call["name"], call.get("arguments", {})'}),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
