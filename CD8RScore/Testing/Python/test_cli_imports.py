"""A command loads only what it uses: ``cd8rscore score`` starts without the cohort statistics, the signature
tools or a plotting library, and every command is still reachable."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "lifelines", "matplotlib", "dask", "distributed", "scipy", "radiomics", "numba")


def modules_after(code: str) -> list[str]:
    """Top-level packages of HEAVY imported by a fresh interpreter running ``code``."""
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_score_help_loads_no_heavy_package():
    code = ("from CD8RScoreLib.cli import main\n"
            "try:\n    main(['score', '--help'])\nexcept SystemExit:\n    pass")
    assert modules_after(code) == []


@pytest.mark.parametrize("command", ["patient", "response", "cohort-add", "batch", "index"])
def test_table_commands_load_no_statistics_or_plotting(command):
    assert modules_after(f"from CD8RScoreLib.cli import build_parser\nbuild_parser({command!r})") == []


def test_every_command_is_reachable(capsys):
    from CD8RScoreLib.cli import build_parser

    commands = ["score", "patient", "response", "demo", "cohort-add", "batch", "index", "extract", "import-lifex",
                "fit-signature", "validate-signature", "compare-signatures", "cohort", "cutpoint"]
    for command in commands:  # the parser built for a command knows it, and so does the parser of all commands
        for parser in (build_parser(command), build_parser()):
            with pytest.raises(SystemExit) as exit_status:
                parser.parse_args([command, "--help"])
            assert exit_status.value.code == 0
            assert f"usage: cd8rscore {command}" in capsys.readouterr().out
