"""The README's quick start is what CI runs, and it installs what it uses."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n\s*(.+?)\n\s*```", section)


def test_two_quick_start_commands():
    install_demo, tests = quick_start_commands()
    assert "detector scan --demo" in install_demo
    assert "pytest" in tests and ".[test]" in tests


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text()
    (command,) = re.findall(r"^README_TEST_COMMAND='(.+)'$", ci, flags=re.M)
    assert command == quick_start_commands()[1]
