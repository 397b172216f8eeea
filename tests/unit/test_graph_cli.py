"""`stepstone graph FILE`: every example definition in every format, and validate's errors for bad files."""
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine import cli
from engine.asl import parse
from graph_support import edge_elements, state_elements, state_names, transitions

REPO = Path(__file__).resolve().parents[2]
NOT_MACHINES = (".input.json", ".rules.yaml", ".sources.yaml", ".mocks.json")
EXAMPLES = sorted(path for path in (REPO / "definitions").iterdir()
                  if path.suffix in (".yaml", ".json") and not path.name.endswith(NOT_MACHINES))


def graph(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["graph", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_examples_are_found():
    assert len(EXAMPLES) >= 8 and all(parse.load_file(p).document.get("StartAt") for p in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_renders_in_every_format(example, capsys):
    definition = parse.load_file(example).document
    names = state_names(definition)
    code, svg, err = graph(capsys, str(example), "--format", "svg")
    assert code == 0, err
    root = ET.fromstring(svg)
    assert sorted(g.get("data-state") for g in state_elements(root)) == sorted(names)
    drawn = {(e.get("data-source"), e.get("data-target")) for e in edge_elements(root)}
    assert {(source, target) for source, target, _ in transitions(definition)} <= drawn
    code, mermaid, _ = graph(capsys, str(example))  # Mermaid by default
    assert code == 0 and mermaid.startswith("flowchart TD\n")
    assert len([line for line in mermaid.splitlines() if "<br/><small>" in line]) == len(names)
    code, dot, _ = graph(capsys, str(example), "--format", "dot")
    assert code == 0 and dot.startswith("digraph stepstone {") and dot.count("\\n") >= len(names)


def test_output_suffix_chooses_the_format(tmp_path, capsys):
    example = str(REPO / "definitions" / "choice-router.json")
    assert graph(capsys, example, "--output", str(tmp_path / "g.svg")) == (0, "", "")
    assert (tmp_path / "g.svg").read_text(encoding="utf-8").startswith("<svg")
    assert graph(capsys, example, "--output", str(tmp_path / "g.gv"))[0] == 0
    assert (tmp_path / "g.gv").read_text(encoding="utf-8").startswith("digraph")
    assert graph(capsys, example, "--output", str(tmp_path / "g.md"))[0] == 0
    assert (tmp_path / "g.md").read_text(encoding="utf-8").startswith("flowchart")


def test_invalid_definitions_are_reported_as_validate_reports_them(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("StartAt: A\nStates:\n  A: {Type: Pass, Next: Missing}\n")
    code, out, err = graph(capsys, str(bad))
    assert cli.main(["validate", str(bad)]) == code == cli.EXIT_FAILED and out == ""
    assert err.splitlines() == capsys.readouterr().out.splitlines()  # the same lines validate prints

    broken = tmp_path / "broken.json"
    broken.write_text('{"StartAt": ')
    code, out, err = graph(capsys, str(broken))
    assert code == cli.EXIT_FAILED and out == "" and "broken.json:1:" in err and "invalid JSON" in err
    code, _, err = graph(capsys, str(tmp_path / "absent.yaml"))
    assert code == cli.EXIT_FAILED and "cannot read the definition" in err


def test_the_installed_command_writes_svg(tmp_path):
    done = subprocess.run([sys.executable, "-m", "engine", "graph", str(REPO / "definitions" / "parallel-fanout.yaml"),
                           "--format", "svg"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(state_elements(ET.fromstring(done.stdout))) == 4


def test_the_cli_loads_the_graph_package_only_for_graph(tmp_path):
    from test_cli_startup_imports_stay_lazy import loaded_after
    assert loaded_after("import engine.cli", {"engine.graph"}) == []
    example = str(REPO / "definitions" / "choice-router.json")
    assert loaded_after(f"from engine import cli\nassert cli.main(['graph', {example!r}]) == 0",
                        {"engine.graph"}) == ["engine.graph"]
