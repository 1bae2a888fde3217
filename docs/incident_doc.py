"""Run the commands of ``docs/incident.md`` and keep its outputs true.

Every fenced ``sh`` block of the document holds one ``detector ...`` command;
the ``text`` block right after it holds what that command prints on standard
output, and a last line ``[exit N]`` with its exit code. This script runs each
command from the repository root (as ``python -m detector``, so no install of
the entry point is needed) on the data the repository ships
(``datasets/incident/``, made by ``datasets/make_incident.py``):

    python docs/incident_doc.py           # rewrite the outputs in docs/incident.md
    python docs/incident_doc.py --check   # exit 1 and show what differs

``tests/test_incident_doc.py`` runs the check, so the document cannot rot: a change
of the detector that changes what the incident shows fails that test until the
document is regenerated (and re-read).
"""

from __future__ import annotations

import argparse
import difflib
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "incident.md"
BLOCK = re.compile(r"```sh\n(?P<cmd>[^`]+?)\n```\n\n```text\n(?P<out>.*?)```\n", re.S)


def commands(text: str) -> list[tuple[str, str]]:
    """``(command, documented output)`` of every sh block followed by a text block."""
    return [(m.group("cmd").strip(), m.group("out")) for m in BLOCK.finditer(text)]


def run(command: str) -> str:
    """What ``command`` prints (standard output) and ``[exit N]``."""
    args = shlex.split(command.replace("\\\n", " "))
    if args[0] != "detector":
        raise ValueError(f"not a detector command: {command!r}")
    done = subprocess.run([sys.executable, "-m", "detector", *args[1:]], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{command!r} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout + f"[exit {done.returncode}]\n"


def render(text: str) -> str:
    """``text`` with every documented output replaced by the real one."""
    def replace(m: re.Match) -> str:
        return m.group(0).replace(f"```text\n{m.group('out')}```",
                                  f"```text\n{run(m.group('cmd').strip())}```")

    return BLOCK.sub(replace, text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="only compare; exit 1 when an output differs")
    opts = ap.parse_args(argv)
    text = DOC.read_text()
    new = render(text)
    if opts.check:
        if new != text:
            sys.stdout.writelines(difflib.unified_diff(
                text.splitlines(True), new.splitlines(True), "incident.md (documented)",
                "incident.md (as run now)"))
            return 1
        return 0
    DOC.write_text(new)
    print(f"{DOC}: {len(commands(new))} commands run, outputs written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
