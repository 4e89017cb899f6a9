"""docs/cli.md cannot drift: its reference is generated from --help, and its examples are literal."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from amsread import docs
from amsread.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
CLI_MD = ROOT / "docs" / "cli.md"


def test_docs_path_is_the_checkout() -> None:
    assert docs.DEFAULT_PATH == CLI_MD and CLI_MD.is_file()


def test_docs_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert docs.main(["--check"]) == 0, f"docs/cli.md is stale: run `{docs.REGENERATE}`"
    assert capsys.readouterr().err == ""


def test_every_command_has_help() -> None:
    text = CLI_MD.read_text(encoding="utf-8")
    names = docs.command_names()
    assert "hex" in names
    ctx = click.Context(cli, info_name="amsread")
    for name in names:
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        assert (cmd.help or "").strip(), f"{name} has no help text"
        assert cmd.get_short_help_str(limit=200).strip(), f"{name} has no short help"
        assert "Examples:" in (cmd.help or ""), f"{name}'s help has no examples"
        assert f"\n### amsread {name}\n" in text, f"{name} is not in docs/cli.md"


def test_reference_follows_commands_order() -> None:
    generated = docs.generate()
    titles = re.findall(r"^### (.+)$", generated, flags=re.M)
    assert titles == ["amsread"] + [f"amsread {name}" for name in docs.command_names()]


def test_generation_ignores_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    wide = docs.generate()
    monkeypatch.setenv("COLUMNS", "40")
    assert docs.generate() == wide


def test_check_fails_on_stale_file_and_regeneration_keeps_the_text_around(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    intro = "# Hand-written\n\nKeep me.\n\n"
    outro = "\nAnd me.\n"
    path = tmp_path / "cli.md"
    path.write_text(f"{intro}{docs.BEGIN}\nold help\n{docs.END}{outro}")
    assert docs.main(["--check", "--path", str(path)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert "old help" in path.read_text()  # --check changes nothing
    assert docs.main(["--path", str(path)]) == 0
    text = path.read_text()
    assert text.startswith(intro + docs.BEGIN + "\n") and text.endswith(docs.END + outro)
    assert "old help" not in text and "### amsread hex\n" in text
    assert docs.main(["--check", "--path", str(path)]) == 0


def test_missing_markers_or_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cli.md"
    path.write_text("# no markers\n")
    assert docs.main(["--path", str(path)]) == 1
    assert "no <!-- generated: begin --> marker" in capsys.readouterr().err
    assert path.read_text() == "# no markers\n"
    assert docs.main(["--check", "--path", str(tmp_path / "missing.md")]) == 1


def console_examples() -> list[tuple[str, list[str]]]:
    """``$ amsread ...`` commands in the hand-written part's ``console`` blocks, with their output."""
    intro = CLI_MD.read_text(encoding="utf-8").partition(docs.BEGIN)[0]
    examples = []
    for block in re.findall(r"```console\n(.*?)```", intro, flags=re.S):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("$ "):
                rest = lines[i + 1 :]
                end = next((k for k, other in enumerate(rest) if other.startswith("$ ")), len(rest))
                examples.append((line[2:], rest[:end]))
    return examples


def test_intro_has_examples() -> None:
    assert len(console_examples()) >= 2


def example_id(value: object) -> str:
    return value if isinstance(value, str) else ""


@pytest.mark.parametrize(("command", "expected"), console_examples(), ids=example_id)
def test_intro_examples_are_literal(
    command: str, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = shlex.split(command)
    assert argv[0] == "amsread"
    monkeypatch.chdir(ROOT)  # the examples read examples/*.hex
    result = CliRunner().invoke(cli, argv[1:], prog_name="amsread")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == expected
