"""``grader.py capstone`` and ``grader.py agent`` resolve --target through one helper (activate_target)."""

from __future__ import annotations

import pytest

from verlings.agent_rl import cli as agent_cli
from verlings.capstone import cli as capstone_cli


@pytest.mark.parametrize("main", [capstone_cli.main, agent_cli.main], ids=["capstone", "agent"])
def test_a_missing_target_folder_is_exit_2_with_one_error_line(main, tmp_path, capsys):
    missing = tmp_path / "no-such-folder"
    assert main(["--target", str(missing)]) == 2
    out = capsys.readouterr().out
    assert out.startswith("error: ") and str(missing) in out and out.count("\n") == 1, out
