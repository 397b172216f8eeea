"""engine.graph.model: a definition's states, transitions and groups as a graph."""
from engine.graph import build_graph
from engine.graph.model import CATCH, CHOICE, DEFAULT, END, NEXT, START, choice_label

ORDER = {
    "StartAt": "Reserve",
    "States": {
        "Reserve": {"Type": "Task", "Resource": "r", "Retry": [{"ErrorEquals": ["States.ALL"]}],
                    "Catch": [{"ErrorEquals": ["OutOfStock", "States.Timeout"], "Next": "Sorry"}], "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 3, "Next": "Fan"}],
                  "Default": "Reserve"},
        "Fan": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
            {"StartAt": "B", "States": {"B": {"Type": "Map", "Iterator": {
                "StartAt": "C", "States": {"C": {"Type": "Succeed"}}}, "End": True}}}]},
        "Sorry": {"Type": "Fail", "Error": "OutOfStock"},
    },
}


def kinds(graph):
    return [(e.source, e.target, e.kind, e.label) for e in graph.edges]


def test_states_start_end_and_flags():
    graph = build_graph(ORDER)
    assert [n.type for n in graph.nodes] == [START, "Task", "Choice", "Parallel", "Fail", END]
    reserve, check, fan, sorry = graph.nodes[1:5]
    assert reserve.start and reserve.retry and not reserve.terminal
    assert not check.retry and fan.terminal and sorry.terminal
    assert graph.state_names() == ["Reserve", "Check", "Fan", "A", "B", "C", "Sorry"]


def test_edges_carry_their_kind_and_label():
    graph = build_graph(ORDER)
    start, end = graph.nodes[0].key, graph.nodes[-1].key
    assert kinds(graph) == [
        (start, "Reserve", START, ""),
        ("Reserve", "Check", NEXT, ""),
        ("Reserve", "Sorry", CATCH, "OutOfStock, States.Timeout"),
        ("Check", "Fan", CHOICE, "$.n > 3"),
        ("Check", "Reserve", DEFAULT, "Default"),
        ("Fan", end, END, ""),
        ("Sorry", end, END, ""),
    ]


def test_parallel_branches_and_map_processors_are_nested_graphs_with_their_own_start_and_end():
    fan = build_graph(ORDER).node("Fan")
    assert [b.title for b in fan.branches] == ["Branch 1", "Branch 2"]
    processor = fan.branches[1].node("B").branches[0]
    assert processor.title == "Item processor"
    assert [(e.kind, e.target) for e in processor.edges][0] == (START, "C")
    keys = [n.key for n in fan.branches[0].nodes] + [n.key for n in processor.nodes]
    assert len(set(keys)) == len(keys)  # each scope's Start and End are nodes of their own


def test_dangling_targets_are_left_to_validation():
    graph = build_graph({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})
    assert [e.kind for e in graph.edges] == [START]


def test_choice_labels_read_like_the_rule():
    assert choice_label({"Variable": "$.s", "StringEquals": "ok"}, 0) == '$.s == "ok"'
    assert choice_label({"Variable": "$.a", "NumericLessThanEqualsPath": "$.b"}, 0) == "$.a <= $.b"
    assert choice_label({"Variable": "$.p", "IsPresent": False}, 0) == "$.p is not present"
    assert choice_label({"Not": {"Variable": "$.f", "BooleanEquals": True}}, 0) == "not ($.f == true)"
    either = {"Or": [{"Variable": "$.a", "IsNull": True}, {"Variable": "$.b", "StringMatches": "x*"}]}
    assert choice_label(either, 0) == '($.a is null) or ($.b matches "x*")'
    assert choice_label({"Condition": "{% $states.input.n > 3 %}"}, 0, "JSONata") == "$states.input.n > 3"
    assert choice_label({"Condition": True}, 1, "JSONata") == "true"
    assert choice_label({"Mystery": 1}, 2) == "Choice #3"
    long = choice_label({"Variable": "$.a_really_long_variable_name", "StringEquals": "and a long value"}, 0)
    assert len(long) == 40 and long.endswith("…")
