"""docs/incident.md: its commands run on the shipped data and print what the page shows."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_incident_data_on_disk_is_what_the_script_makes():
    make = load(ROOT / "datasets" / "make_incident.py", "_make_incident")
    files = make.build()
    assert sorted(files) == ["checkout.csv.gz", "events.csv", "fleet.csv.gz", "rules.toml"]
    for name, data in files.items():
        assert (ROOT / "datasets" / "incident" / name).read_bytes() == data, name
    assert sum(len(d) for d in files.values()) < 300_000  # small enough to ship


def test_every_documented_command_prints_what_the_page_shows():
    doc = load(ROOT / "docs" / "incident_doc.py", "_incident_doc")
    text = doc.DOC.read_text()
    found = doc.commands(text)
    assert len(found) >= 4 and all(cmd.startswith("detector ") for cmd, _ in found)
    assert "detector verify" in text and "--rules" in text and "--events" in text
    for command, documented in found:
        assert doc.run(command) == documented, (
            f"{command!r} prints something else now: run python docs/incident_doc.py, "
            "and read docs/incident.md again")
