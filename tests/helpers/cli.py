"""Running the real console entry point in-process, for tests that check exit codes and streams."""

from __future__ import annotations

from click.testing import CliRunner

from amsread.cli.main import main


def run(*args: str, input: bytes | str | None = None) -> tuple[int, str, str]:
    """``amsread ARGS`` through the console entry point: (exit code, stdout, stderr)."""
    with CliRunner().isolation(input=input) as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else int(e.code is not None)
    return code, out.getvalue().decode(), err.getvalue().decode()
