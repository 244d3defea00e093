"""The seam where a student's grading process is confined.

Today: its own session and process group (killed as a whole at the end, as
:mod:`verlings.grading` does per chapter), output to a file rather than a pipe (a forked
child that keeps running cannot hold the grader up), and, where Linux allows it, a fresh
PID namespace (``unshare --pid --fork --kill-child``): when the student's grader ends or is
killed, every process the student's code started dies with it, even one that called
``setsid()`` to leave the process group. The namespace gets its own ``/proc``.

The course's code jail (bubblewrap, issue 19) plugs in here: :func:`jail_prefix` is the
only place that decides what a student's process runs inside. The network is left alone on
purpose: chapter 04's graded tests talk to a reward server on the loopback address, which a
fresh network namespace would take down.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

ENV_VAR = "VERLINGS_BATCH_JAIL"  # "none" turns the PID namespace off (for debugging a grader)


@functools.cache
def jail_prefix() -> tuple[str, ...]:
    """The command words that put a student's grading process in its own PID namespace (or ())."""
    if os.environ.get(ENV_VAR) == "none":
        return ()
    exe = shutil.which("unshare")
    if exe is None:
        return ()
    # Root can create the namespace directly; a normal user needs a user namespace first.
    for extra in ((), ("--user", "--map-root-user")):
        # --mount-proc: a /proc of the new namespace (in a mount namespace of its own); without it,
        # a jail inside (chapter 04's bubblewrap) cannot mount a proc of its own and hangs.
        cmd = (exe, *extra, "--pid", "--fork", "--kill-child", "--mount-proc")
        try:
            ok = subprocess.run([*cmd, "true"], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            return cmd
    return ()


def layers() -> list[str]:
    """What confines a student here, for the class report."""
    return ["own process group", "output to file", *(["pid namespace"] if jail_prefix() else [])]
