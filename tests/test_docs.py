"""The README documents every command and option of the CLI."""

from pathlib import Path

import click

from detector.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "detector"):
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from _commands(command, path)
        else:
            yield path, command


def test_every_cli_command_and_option_appears_in_the_readme():
    missing = []
    for path, command in _commands(main):
        if path not in README:
            missing.append(path)
        for param in command.params:
            for opt in [*param.opts, *param.secondary_opts]:
                if opt.startswith("--") and opt not in ("--help",) and opt not in README:
                    missing.append(f"{path} {opt}")
    assert missing == []
