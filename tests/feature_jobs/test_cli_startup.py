"""The command line: every command has --help, and a command imports only what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from feature_jobs.cli import COMMAND_MODULES, command_module, main
from tests.support.fresh_process import run_fresh

COMMANDS = [name.removesuffix("_cmd").replace("_", "-") for name in COMMAND_MODULES]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: python -m feature_jobs {command} ")


def test_the_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(command in out for command in COMMANDS)


def test_only_the_named_commands_module_is_loaded(tmp_path: Path) -> None:
    assert command_module(["training-set", "--spine", "s"]) == "training_set_cmd"
    assert command_module(["--help"]) is None
    assert command_module(["nope"]) is None  # argparse then names the valid choices
    assert command_module([]) is None
    probe = (
        "import sys\n"
        "from feature_jobs.cli import main\n"
        "try:\n"
        "    main(['training-set', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('LOADED', sorted(m for m in ('fastapi', 'redis', 'pandera') if m in sys.modules))\n"
    )
    output = run_fresh(probe, tmp_path)
    assert "LOADED []" in output, output[-500:]
