"""Graded tests for exercises/04/sandbox.py: conventions of the contract that test_sandbox.py's
hostile programs do not reach (found by the mutation command, issue 24).

Each expected value is read off the stub's docstring (the contract), worked by hand where noted.
"""

import inspect
import itertools
import os

import pytest

from verlings import learner_module
from verlings.target import load_module
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
    default = inspect.signature(sandbox.run_code).parameters["timeout_s"].default
    if default == 2.0:
        # The stub's signature, kept: test_run_code_times_out proves timeout_s is what stops a run,
        # so the 2 s wait below would prove nothing more (and cost every save in watch 2 s). A quick
        # program must still run to its end under that default.
        result = sandbox.run_code("print('ok')\n")
        assert_equal((result.timed_out, result.stdout), (False, "ok\n"),
                     what="(timed_out, stdout) of print('ok') under run_code's default timeout",
                     why="timeout_s defaults to 2.0 seconds of wall-clock time (the signature)")
        return
    # Another default (None meaning 2 s, say): the behaviour must still be 2 s. Sleeps 2.5 s (no
    # CPU): the default stops it first, whatever the machine's load.
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


@pytest.mark.exercise("04.run_code")
def test_isolation_layers_unjailed_names_the_namespaces():
    # The docstring: jail=False adds "netns" and "pidns" (in that order) only when unshare_prefix()
    # (provided) found a working unshare; the six layers every run has come first.
    expected = BASE_LAYERS + (["netns", "pidns"] if sandbox.unshare_prefix() else [])
    assert_equal(sandbox.isolation_layers(jail=False), expected, what="isolation_layers(jail=False)",
                 why="without the jail: the six layers every run has, then 'netns' and 'pidns' when unshare works")


# --- §2.3 run_code as root and as a normal user: both branches, seen through the provided helpers ----


def _spy_on_helpers(monkeypatch) -> list[tuple[str, dict]]:
    """Record every call run_code makes to the provided hand_over, processes_of, prlimit_args and
    bwrap_args (arguments by name, and processes_of's count), still calling the real helpers."""
    calls: list[tuple[str, dict]] = []
    module = load_module("04", "sandbox")  # the module itself: run_code looks its helpers up there
    for name in ("hand_over", "processes_of", "prlimit_args", "bwrap_args"):
        real = getattr(module, name)
        signature = inspect.signature(real)

        def spy(*args, _real=real, _name=name, _signature=signature, **kwargs):
            arguments = dict(_signature.bind(*args, **kwargs).arguments)
            out = _real(*args, **kwargs)
            calls.append((_name, {**arguments, "returned": out} if _name == "processes_of" else arguments))
            return out

        monkeypatch.setattr(module, name, spy)
    return calls


def _called(calls, name) -> list[dict]:
    return [arguments for called, arguments in calls if called == name]


@pytest.mark.exercise("04.run_code")
@pytest.mark.parametrize("euid", [0, 1000], ids=["root", "not-root"])
@pytest.mark.parametrize("jail", [True, False], ids=["jailed", "unjailed"])
def test_run_code_hands_over_and_counts_the_right_user(monkeypatch, euid, jail):
    # The docstring's points 1 and 3: the folder is handed to JAIL_UID only as root in the jail
    # (hand_over(root, as_root and jail)); the process limit is MAX_PROCESSES more than what the
    # jail's user (JAIL_UID as root, else you) or, unjailed, your own user already runs.
    # The machine may run only one of the two users: os.geteuid/os.getuid are faked for the
    # other, and the real helpers still run (the program's own result is not graded here).
    if jail and not sandbox.jail_available():
        pytest.skip("no jail on this machine: only the unjailed rows apply (JailUnavailableError is tested elsewhere)")
    if euid != 0:
        monkeypatch.setattr(os, "geteuid", lambda: euid)
        monkeypatch.setattr(os, "getuid", lambda: euid)
    as_root = euid == 0
    calls = _spy_on_helpers(monkeypatch)
    try:
        sandbox.run_code("print(1)\n", timeout_s=5.0, jail=jail)
    except NotImplementedError:
        raise  # a stub (run_code's or a helper's) says so itself
    except Exception:  # a jail built for the faked user may fail here: only the calls matter
        pass
    where = f"run_code(jail={jail}) as {'root' if as_root else 'a normal user'} (euid {euid})"
    handed = _called(calls, "hand_over")
    assert handed, f"{where} never called hand_over(root, as_root): the docstring's point 1 prepares work/ with it"
    assert_equal(bool(handed[0]["as_root"]), as_root and jail, what=f"hand_over's as_root argument in {where}",
                 why="the folder is handed to JAIL_UID only when running as root in the jail: as_root and jail")
    counted = _called(calls, "processes_of")
    assert counted, f"{where} never called processes_of(uid) to set the process limit (the docstring's point 3)"
    user = sandbox.JAIL_UID if (as_root and jail) else euid
    assert_equal(counted[0]["uid"], user, what=f"the user whose processes {where} counts",
                 why="the jail's user (JAIL_UID as root, else you); unjailed, your own user")
    limits = _called(calls, "prlimit_args")
    assert limits, f"{where} never called prlimit_args (the docstring's point 3)"
    assert_equal(limits[0]["max_processes"], counted[0]["returned"] + sandbox.MAX_PROCESSES,
                 what=f"prlimit_args' max_processes in {where}",
                 why="MAX_PROCESSES more processes than that user already runs")
    if jail:
        jails = _called(calls, "bwrap_args")
        assert jails, f"{where} never called bwrap_args"
        assert_equal(bool(jails[0]["as_root"]), as_root, what=f"bwrap_args' as_root argument in {where}",
                     why="as_root is os.geteuid() == 0: whether bwrap itself runs as root")


# --- §2.5 extract_code and code_reward: every Python tag, and the defaults passed to run_code ------


@pytest.mark.exercise("04.code_reward")
@pytest.mark.parametrize("tag", ["", "python", "py", "python3", "Python3", "PY"])
def test_extract_code_takes_every_python_tag(tag):
    assert_equal(sandbox.extract_code(solution_str=f"```{tag}\nprint(1)\n```"), "print(1)\n",
                 what=f"extract_code of a ```{tag} block",
                 why="Python blocks have the tag '', 'python', 'py' or 'python3', in any case")


@pytest.mark.exercise("04.code_reward")
def test_code_reward_passes_run_codes_defaults_on(monkeypatch):
    # The signature: timeout_s=2.0, memory_mb=256, jail=True, passed to run_code for every case.
    # run_code is replaced by a recorder that answers as a passing run would.
    signature = inspect.signature(sandbox.run_code)
    seen: list[dict] = []

    def recorder(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        seen.append(dict(bound.arguments))
        return sandbox.RunResult("2\n", "", 0, False, 0.01, bool(bound.arguments["jail"]))

    monkeypatch.setattr(load_module("04", "sandbox"), "run_code", recorder)
    score = sandbox.code_reward("```python\nprint(int(input()) + 1)\n```", [{"input": "1", "output": "2"}])
    assert seen, "code_reward did not call run_code (the docstring: timeout_s, memory_mb, jail are passed to it)"
    limits = {key: seen[0][key] for key in ("timeout_s", "memory_mb", "jail")}
    assert_equal(limits, {"timeout_s": 2.0, "memory_mb": 256, "jail": True},
                 what="the limits code_reward's defaults pass to run_code",
                 why="code_reward's defaults are run_code's: timeout_s=2.0, memory_mb=256, jail=True")
    assert_equal(score, 1.0, what="code_reward when run_code reports the expected output")
