"""The architecture as the folders show it, checked: imports point down only (import-linter's
contracts in pyproject.toml), imports sit at the top below the command layer, ``--help`` stays
light, and the pipeline is handed its decoder."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

from amsread.decode.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "amsread"


def test_import_contracts_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert code == 0, capsys.readouterr().out


#: Third-party imports deferred on purpose below the command layer, each with its reason.
DEFERRED: dict[str, str] = {
    # most captures carry no ciphered frame; the import was a tenth of `amsread csv`'s start-up
    "cosem/ciphering.py": "cryptography",
}


def _function_level_imports(path: Path) -> list[str]:
    found = []
    deferred = DEFERRED.get(path.relative_to(PACKAGE).as_posix())
    for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found += [
                f"{path.relative_to(PACKAGE)}:{node.lineno}: {ast.unparse(node)}"
                for node in ast.walk(fn)
                if isinstance(node, (ast.Import, ast.ImportFrom))
                and not (
                    deferred and isinstance(node, ast.ImportFrom) and (node.module or "").startswith(deferred)
                )
            ]
    return found


def test_below_the_command_layer_imports_sit_at_the_top() -> None:
    """Only the commands (``cli/``) import lazily, to keep ``--help`` fast; a lazy import anywhere
    else hides a dependency from the contracts and from the reader. ``DEFERRED`` names the
    third-party packages a module may import on first use, and why."""
    modules = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in ("cli", "docs.py")]
    assert len(modules) > 30
    assert [line for p in sorted(modules) for line in _function_level_imports(p)] == []


def test_help_imports_no_heavy_module() -> None:
    """``amsread --help`` lists every command: construct, pyserial, rich and the meter tables
    are imported by the commands that run, not by the listing."""
    code = (
        "import sys\n"
        "from amsread.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('construct', 'serial', 'rich', 'amsread.meters', 'amsread.decode.decoder')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip() == "[]"


def test_the_pipeline_is_handed_its_decoder() -> None:
    with pytest.raises(TypeError, match="decoder"):
        Pipeline().readings([b""])  # type: ignore[call-arg]


def test_nothing_probes_frames_with_getattr() -> None:
    """One envelope type for every framing: the decoder and the pipeline read its fields."""
    calls = [
        f"{p.relative_to(PACKAGE)}:{node.lineno}"
        for p in [*sorted((PACKAGE / "decode").glob("*.py")), PACKAGE / "wire" / "framer.py"]
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
    ]
    assert calls == []
