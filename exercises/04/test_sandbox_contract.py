"""Graded tests for exercises/04/sandbox.py: conventions of the contract that test_sandbox.py's
hostile programs do not reach (found by the mutation command, issue 24).

Each expected value is read off the stub's docstring (the contract), worked by hand where noted.
"""

import itertools

import pytest

from verlings import learner_module
from verlings.testing import assert_equal

sandbox = learner_module("04", "sandbox")

BASE_LAYERS = ["tempdir", "process-group", "rlimits", "output-cap", "clean-env", "audit-hook"]
JAIL_LAYERS = ["jail", "netns", "pidns", "mountns", "unprivileged"]


def _pairs(args: list[str]) -> set[tuple[str, str]]:
    """Every (option, value) that follows each other in the list: the check is order-free."""
    return set(itertools.pairwise(args))


def _triples(args: list[str]) -> set[tuple[str, str, str]]:
    return set(zip(args, args[1:], args[2:]))


# --- §2.2 bwrap_args: both branches, as pure functions (the machine runs only one of them) -------


@pytest.mark.exercise("04.jail")
def test_bwrap_args_not_root_uses_a_user_namespace_as_nobody():
    args = sandbox.bwrap_args("/srv/run/work", "/opt/python", as_root=False)
    assert "--unshare-all" in args, (
        f"bwrap_args(as_root=False) = {args}: an unprivileged user needs --unshare-all (a user namespace "
        "with the others) — the docstring's step 1, 'otherwise'"
    )
    for pair in (("--uid", "65534"), ("--gid", "65534")):
        assert pair in _pairs(args), (
            f"bwrap_args(as_root=False) lacks {' '.join(pair)} (JAIL_UID/JAIL_GID): the program must run as "
            f"nobody inside the jail — got {args}"
        )
    assert sandbox.SETPRIV not in args, f"bwrap_args(as_root=False) = {args}: setpriv is for root only (step 5)"


@pytest.mark.exercise("04.jail")
@pytest.mark.parametrize("as_root", [True, False], ids=["root", "not-root"])
def test_bwrap_args_private_dev_and_utf8_environment(as_root):
    args = sandbox.bwrap_args("/srv/run/work", "/opt/python", as_root=as_root)
    assert ("--dev", "/dev") in _pairs(args), (
        f"bwrap_args(as_root={as_root}) lacks '--dev /dev' (a private /dev with null, zero, urandom): {args}"
    )
    for name in ("LANG", "LC_ALL"):
        assert ("--setenv", name, "C.UTF-8") in _triples(args), (
            f"bwrap_args(as_root={as_root}) lacks '--setenv {name} C.UTF-8' after --clearenv (step 4): {args}"
        )
    assert ("--setenv", "PATH", sandbox.JAIL_PATH) in _triples(args), (
        f"bwrap_args(as_root={as_root}) lacks '--setenv PATH {sandbox.JAIL_PATH}' (step 4): {args}"
    )


# --- §2.4 prlimit_args: the CPU limit of a short timeout --------------------------------------


@pytest.mark.exercise("04.sandbox_limits")
@pytest.mark.parametrize(("timeout_s", "cpu"), [(0.2, "--cpu=2:3"), (1.0, "--cpu=2:3"), (2.5, "--cpu=4:5")])
def test_prlimit_cpu_is_ceil_timeout_plus_one(timeout_s, cpu):
    # The docstring's table: soft = ceil(timeout_s) + 1, hard = soft + 1.
    # 0.2 → ceil 1 → 2:3; 1.0 → 1 → 2:3; 2.5 → 3 → 4:5.
    args = sandbox.prlimit_args(timeout_s, 256, 40)
    seen = next((a for a in args if a.startswith("--cpu=")), None)
    assert_equal(seen, cpu, what=f"the --cpu option of prlimit_args({timeout_s}, 256, 40)",
                 why="soft limit ceil(timeout_s) + 1 CPU seconds, hard limit one more")


# --- §2.3 run_code: what is kept of the output, and the defaults --------------------------------


@pytest.mark.exercise("04.run_code")
def test_run_code_keeps_exactly_max_output_chars_of_each_stream():
    # 100 000 characters to each stream, then a normal exit: the first MAX_OUTPUT_CHARS = 65 536 of
    # each are kept — no more (the cap), no less (output is the program's answer).
    code = "import sys\nsys.stdout.write('x' * 100_000)\nsys.stderr.write('y' * 100_000)\n"
    result = sandbox.run_code(code, timeout_s=10.0)
    assert_equal(result.exit_code, 0, what="exit code of a program that writes 100 000 characters and exits")
    assert_equal((len(result.stdout), set(result.stdout)), (65_536, {"x"}),
                 what="(len, characters) of stdout kept from 100 000 'x'",
                 why="keep at most MAX_OUTPUT_CHARS (65 536) of stdout — and all of them when there are more")
    assert_equal((len(result.stderr), set(result.stderr)), (65_536, {"y"}),
                 what="(len, characters) of stderr kept from 100 000 'y'", why="the same cap for stderr")


@pytest.mark.exercise("04.run_code")
def test_run_code_decodes_bytes_that_are_not_utf8_with_replacement():
    # b"\xff" and b"\xfe" are never valid UTF-8: each becomes U+FFFD with errors="replace".
    result = sandbox.run_code("import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe!\\n')\n", timeout_s=10.0)
    assert_equal(result.stdout, "ok \ufffd\ufffd!\n", what="stdout of a program that writes b'ok \\xff\\xfe!\\n'",
                 why="decode the output with errors='replace': hostile bytes never raise in the grader")


@pytest.mark.exercise("04.run_code")
def test_run_code_default_stdin_is_empty():
    result = sandbox.run_code("import sys\nprint(repr(sys.stdin.read()))\n")
    assert_equal(result.stdout, "''\n", what="what the program reads from stdin with run_code's default stdin",
                 why="stdin defaults to '' (the signature): the program reads an empty input")


@pytest.mark.exercise("04.run_code")
def test_run_code_default_timeout_is_two_seconds():
    # Sleeps 2.5 s (no CPU): the default timeout_s = 2.0 stops it first, whatever the machine's load.
    result = sandbox.run_code("import time\ntime.sleep(2.5)\nprint('late')\n")
    assert result.timed_out and "late" not in result.stdout, (
        f"a program sleeping 2.5 s finished under run_code's default timeout: {result!r}\n"
        "  timeout_s defaults to 2.0 seconds of wall-clock time (the signature)"
    )


@pytest.mark.exercise("04.run_code")
def test_isolation_layers_default_is_the_jail_in_full():
    if not sandbox.jail_available():
        with pytest.raises(sandbox.JailUnavailableError):
            sandbox.isolation_layers()
        return
    assert_equal(sandbox.isolation_layers(), BASE_LAYERS + JAIL_LAYERS, what="isolation_layers() (the default)",
                 why="jail=True by default, as run_code: the six layers every run has, then the jail's five")
    assert_equal(sandbox.isolation_layers(jail=True), BASE_LAYERS + JAIL_LAYERS, what="isolation_layers(jail=True)",
                 why="the jail adds its layers to the six every run has; it does not replace them")
