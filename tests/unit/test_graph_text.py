"""Mermaid and DOT text: one node per state, groups as (cluster) subgraphs, every transition an edge,
and labels that no name or error can break out of."""
import re
import shutil
import subprocess

import pytest

from engine.graph import build_graph, to_dot, to_mermaid
from engine.graph.dot import dot_string
from engine.graph.ids import node_ids
from engine.graph.mermaid import mermaid_text
from graph_support import scopes, state_names, transitions

AWKWARD = {
    "StartAt": 'Say "hi"',
    "States": {
        'Say "hi"': {"Type": "Pass", "Next": "a]|b"},
        "a]|b": {"Type": "Choice", "Choices": [
            {"Variable": "$.tag", "StringEquals": "<b>bold</b> #1; `x`", "Next": "end"},
            {"Variable": "$.tag", "StringEquals": "x", "Next": "Ünïcødé ✓ \\ back"}], "Default": "a-b"},
        "a-b": {"Type": "Parallel", "Next": "end", "Branches": [
            {"StartAt": "a b", "States": {"a b": {"Type": "Task", "Resource": "r", "End": True,
                                               "Catch": [{"ErrorEquals": ['Err"<&>'], "Next": "x{y}"}]},
                                         "x{y}": {"Type": "Fail"}}},
            {"StartAt": "m#", "States": {"m#": {"Type": "Map", "End": True, "ItemProcessor": {
                "StartAt": "(inner)", "States": {"(inner)": {"Type": "Succeed"}}}}}}]},
        "Ünïcødé ✓ \\ back": {"Type": "Succeed"},
        "end": {"Type": "Pass", "End": True},
    },
}
GROUPS = sum(1 for scope in scopes(AWKWARD) for s in scope["States"].values() if s["Type"] in ("Parallel", "Map"))
BRANCHES = len(list(scopes(AWKWARD))) - 1
TERMINALS = sum(1 for scope in scopes(AWKWARD) for s in scope["States"].values()
                if s.get("End") or s["Type"] in ("Succeed", "Fail"))
EDGES = len(transitions(AWKWARD)) + len(list(scopes(AWKWARD))) + TERMINALS  # + each scope's Start edge


# --- Mermaid -------------------------------------------------------------------------------------------
MERMAID_NODE = re.compile(r'^\s*(\w+)(\["([^"]*)"\]|\{\{"([^"]*)"\}\}|\(\["([^"]*)"\]\))$')
MERMAID_EDGE = re.compile(r'^\s*(\w+) (-->|-\.->|-\.-)(\|"[^"]*"\||\|branch\|)? (\w+)$')


def mermaid_lines(text):
    return [line for line in text.splitlines()[1:]
            if not re.match(r"^\s*(subgraph \w+ \[\"[^\"]*\"\]|end|class \w+ \w+|classDef .*)$", line)]


def test_mermaid_escaping_leaves_only_entities():
    assert mermaid_text('a"b#c<d>e&f|g;h`i') == "a#34;b#35;c#60;d#62;e#38;f#124;g#59;h#96;i"
    assert mermaid_text("[x] {y} (z) é ✓") == "[x] {y} (z) é ✓"  # safe inside a quoted label
    assert mermaid_text("two\nlines") == "two lines"


def test_mermaid_every_line_is_a_node_an_edge_or_a_group():
    text = to_mermaid(build_graph(AWKWARD))
    assert text.startswith("flowchart TD\n")
    for line in mermaid_lines(text):
        assert MERMAID_NODE.match(line) or MERMAID_EDGE.match(line), line
    assert len(re.findall(r"^\s*subgraph ", text, re.M)) == GROUPS + BRANCHES
    assert len(re.findall(r"^\s*subgraph ", text, re.M)) == len(re.findall(r"^\s*end$", text, re.M))


def test_mermaid_has_each_state_once_and_every_edge():
    text = to_mermaid(build_graph(AWKWARD))
    for name in state_names(AWKWARD):
        assert text.count(f'"{mermaid_text(name)}<br/>') == 1, name
    labels = [m.group(3) or m.group(4) or m.group(5) for m in map(MERMAID_NODE.match, mermaid_lines(text)) if m]
    assert len([label for label in labels if "<br/>" in label]) == len(state_names(AWKWARD))
    for label in labels:  # nothing but our own markup and entities survives in a label
        bare = re.sub(r"#\d+;|<br/>|</?small>", "", label)
        assert not set(bare) & set('"#<>&|;`'), label
    edges = [MERMAID_EDGE.match(line) for line in mermaid_lines(text)]
    assert len([e for e in edges if e and e.group(2) != "-.-"]) == EDGES
    assert len([e for e in edges if e and e.group(2) == "-.-"]) == BRANCHES


def test_ids_stay_unique_and_safe_when_names_sanitise_alike():
    ids = node_ids(build_graph(AWKWARD))
    assert len(set(ids.values())) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", value) for value in ids.values())
    assert "end" not in ids.values()  # a Mermaid keyword


# --- DOT ---------------------------------------------------------------------------------------------------
DOT_STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def test_dot_strings_escape_quotes_and_backslashes():
    assert dot_string('say "hi" \\o/') == r'"say \"hi\" \\o/"'
    assert dot_string("two\nlines") == r'"two\nlines"'


def test_dot_structure_states_and_edges():
    text = to_dot(build_graph(AWKWARD))
    outside = DOT_STRING.sub("S", text)
    assert '"' not in outside and outside.count("{") == outside.count("}")
    assert len(re.findall(r"^\s*subgraph S \{", outside, re.M)) == GROUPS + BRANCHES
    for name in state_names(AWKWARD):
        assert text.count(f"label={dot_string(name)[:-1]}\\n") == 1, name  # "NAME\nTYPE"
    assert len(re.findall(r'\[class="(Next|Default|Choice|Catch|Start|End)"', text)) == EDGES
    assert len(re.findall(r"arrowhead=none", text)) == BRANCHES


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_accepts_the_dot():
    done = subprocess.run(["dot", "-Tsvg"], input=to_dot(build_graph(AWKWARD)), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
