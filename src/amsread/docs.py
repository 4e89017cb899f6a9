"""Keep ``docs/cli.md`` true: its command reference is generated from the commands' own ``--help``.

``python -m amsread.docs`` rewrites the part of ``docs/cli.md`` between the markers
``<!-- generated: begin -->`` and ``<!-- generated: end -->`` with ``amsread --help`` and, for every
name in ``amsread.cli.COMMANDS`` that resolves to a command, ``amsread <name> --help``. The
hand-written text around the markers is kept. ``--check`` changes nothing and exits 1 when the file
differs from what would be generated (CI runs it), so a new command or option cannot go
undocumented. Help is rendered at a fixed width, so the output does not depend on the terminal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

import click
from click.testing import CliRunner

from amsread.cli.main import COMMANDS, cli

BEGIN: Final = "<!-- generated: begin -->"
END: Final = "<!-- generated: end -->"
#: Help is rendered this wide, whatever the terminal (``CONTEXT_SETTINGS`` caps it at 100).
WIDTH: Final = 100
#: ``docs/cli.md`` in a source checkout (``src/amsread/docs.py`` -> the project root).
DEFAULT_PATH: Final = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
REGENERATE: Final = "python -m amsread.docs"


def command_names() -> list[str]:
    """Every name in ``COMMANDS`` that resolves to a command, in ``COMMANDS`` order."""
    ctx = click.Context(cli, info_name="amsread")
    return [name for name in COMMANDS if cli.get_command(ctx, name) is not None]


def help_text(args: list[str]) -> str:
    """``amsread <args> --help`` as printed at ``WIDTH`` columns, trailing spaces removed."""
    result = CliRunner().invoke(cli, [*args, "--help"], prog_name="amsread", terminal_width=WIDTH)
    if result.exit_code != 0:
        raise RuntimeError(f"amsread {' '.join(args)} --help failed: {result.output}")
    return "\n".join(line.rstrip() for line in result.stdout.rstrip("\n").splitlines())


def generate() -> str:
    """The text between the markers: the group's help, then each command's."""
    parts = [
        f"<!-- Everything up to the end marker is rewritten by `{REGENERATE}` from --help. -->",
        "",
        "## Command reference",
        "",
    ]
    for args in [[], *([name] for name in command_names())]:
        title = " ".join(["amsread", *args])
        parts += [f"### {title}", "", "```text", help_text(args), "```", ""]
    return "\n".join(parts)


def render(current: str) -> str:
    """``current`` with the generated part replaced; raise ``ValueError`` if the markers are missing."""
    head, sep, rest = current.partition(BEGIN)
    if not sep:
        raise ValueError(f"no {BEGIN} marker")
    _, sep, tail = rest.partition(END)
    if not sep:
        raise ValueError(f"no {END} marker after {BEGIN}")
    return f"{head}{BEGIN}\n{generate()}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m amsread.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if the file is stale")
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH, help=f"default: {DEFAULT_PATH}")
    args = parser.parse_args(argv)
    path: Path = args.path
    try:
        current = path.read_text(encoding="utf-8")
        wanted = render(current)
    except (OSError, ValueError) as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 1
    if wanted == current:
        if not args.check:
            print(f"{path} is up to date")
        return 0
    if args.check:
        print(f"{path} is out of date with the commands' --help; run `{REGENERATE}`", file=sys.stderr)
        return 1
    path.write_text(wanted, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
