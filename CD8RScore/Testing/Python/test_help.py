"""``cd8rscore COMMAND --help`` teaches: every subcommand has a description and an example, every option has help,
and every option's default is shown."""
from __future__ import annotations

import argparse
import re

import pytest

from CD8RScoreLib.cli import build_parser


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


COMMANDS = sorted(subcommands())


def test_every_command_of_the_entry_points_is_covered():
    assert {"score", "patient", "response", "cohort", "cutpoint", "demo", "batch", "cohort-add", "extract",
            "import-lifex", "fit-signature", "validate-signature", "compare-signatures"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_a_description_an_example_and_every_default(command):
    parser = subcommands()[command]
    text = parser.format_help()
    assert parser.description and len(parser.description.split()) >= 8, f"{command}: no description"
    example = text.split("Example", 1)
    assert len(example) == 2, f"{command}: no example"
    commands = [line.strip() for line in example[1].splitlines() if line.startswith("  cd8rscore ")]
    assert commands and all(line.startswith(f"cd8rscore {command} ") for line in commands), \
        f"{command}: the example does not run the command: {commands}"
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = action.option_strings[0] if action.option_strings else action.dest
        assert action.help, f"{command} {name}: no help"
        has_default = not any(action.default is nothing for nothing in (None, False, argparse.SUPPRESS))
        if action.option_strings and not action.required and has_default:
            shown = parser._get_formatter()._get_help_string(action) % {"default": action.default}
            assert f"(default: {action.default})" in shown, f"{command} {name}: default not shown"
            flat = re.sub(r"\s+", " ", text)
            assert f"(default: {action.default})" in flat, f"{command} {name}: default not in --help"


def test_timepoint_is_explained():
    text = re.sub(r"\s+", " ", subcommands()["score"].format_help())
    assert "E0 = the baseline CT" in text and "E1 = the first evaluation CT" in text
