"""Target input: Input, InputPath and InputTransformer with AWS's quoting rules."""
from __future__ import annotations

import json

import pytest

from engine.errors import ValidationException
from engine.eventbus.transform import TransformError, check_target_input, render, target_input

EVENT = {"version": "0", "id": "7bf73129", "detail-type": "EC2 Instance State-change Notification",
         "source": "aws.ec2", "account": "123456789012", "time": "2015-11-11T21:29:54Z",
         "region": "us-east-1", "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0123"],
         "detail": {"instance-id": "i-0123456789", "state": "RUNNING", "count": 3,
                    "tags": {"a": 1}, "items": [{"n": 1}, {"n": 2}]}}
RULE, RULE_ARN, INGESTED = "example", "arn:aws:events:us-east-1:123456789012:rule/example", 1_700_000_000.5
PATHS = {"instance": "$.detail.instance-id", "state": "$.detail.state", "count": "$.detail.count",
         "tags": "$.detail.tags", "missing": "$.detail.nope", "ns": "$.detail.items[*].n"}


def transformed(template: str, paths: dict = PATHS) -> str:
    target = {"Id": "t", "Arn": "arn", "InputTransformer": {"InputPathsMap": paths,
                                                            "InputTemplate": template}}
    return target_input(target, EVENT, RULE, RULE_ARN, INGESTED)


# AWS's documented examples (EventBridge user guide, "Input transform examples")
@pytest.mark.parametrize("template, expected", [
    ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
    ('{"instance" : <instance>, "state": <state>}', '{"instance":"i-0123456789","state":"RUNNING"}'),
    ('{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \\"<instance>\\" is in <state>"}',
     '{"instance":"i-0123456789","state":"RUNNING","instanceStatus":"instance \\"i-0123456789\\" is in RUNNING"}'),
    ('{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}',
     '{"instance":"i-0123456789","state":[9,"RUNNING",true],"Transformed":"Yes"}'),
    ('"<aws.events.rule-name> triggered"', '"example triggered"'),
])
def test_the_documented_examples(template, expected):
    assert transformed(template) == expected


def test_non_strings_outside_quotes_are_json_and_inside_quotes_their_text():
    assert json.loads(transformed('{"n": <count>, "t": <tags>, "s": "<count> items", "ns": <ns>}')) == \
        {"n": 3, "t": {"a": 1}, "s": "3 items", "ns": [1, 2]}


def test_string_values_are_not_escaped_inside_quotes_as_aws_documents():
    event = {**EVENT, "detail": {"text": 'say "hi"'}}
    target = {"InputTransformer": {"InputPathsMap": {"t": "$.detail.text"},
                                   "InputTemplate": '{"m": "<t>"}'}}
    with pytest.raises(TransformError):  # the quotes end up unescaped: not JSON any more
        target_input(target, event, RULE, RULE_ARN, INGESTED)
    target["InputTransformer"]["InputTemplate"] = '{"m": <t>}'
    assert json.loads(target_input(target, event, RULE, RULE_ARN, INGESTED)) == {"m": 'say "hi"'}


def test_a_missing_path_is_null_outside_quotes_and_empty_inside():
    assert transformed('{"a": <missing>, "b": "x<missing>y"}') == '{"a":null,"b":"xy"}'


def test_predefined_variables():
    value = json.loads(transformed('{"arn": <aws.events.rule-arn>, "at": <aws.events.event.ingestion-time>, '
                                   '"e": <aws.events.event>, "full": <aws.events.event.json>}'))
    assert value["arn"] == RULE_ARN
    assert value["at"] == "2023-11-14T22:13:20.500Z"
    assert "detail" not in value["e"] and value["e"]["id"] == "7bf73129"
    assert value["full"] == EVENT


def test_a_text_template_inserts_values_as_they_are():
    assert render("<instance> is in <state> (<count>)", {"instance": "i-1", "state": "UP", "count": 3}) \
        == "i-1 is in UP (3)"


def test_unknown_placeholders_stay_as_written():
    assert transformed('{"a": "<b>", "c": <state>}') == '{"a":"<b>","c":"RUNNING"}'


def test_input_input_path_and_the_whole_event():
    assert target_input({"Input": '{"fixed": true}'}, EVENT, RULE, RULE_ARN, INGESTED) == '{"fixed": true}'
    assert target_input({"InputPath": "$.detail.tags"}, EVENT, RULE, RULE_ARN, INGESTED) == '{"a":1}'
    assert json.loads(target_input({}, EVENT, RULE, RULE_ARN, INGESTED)) == EVENT


@pytest.mark.parametrize("target, words", [
    ({"Id": "t", "Input": "{}", "InputPath": "$"}, "only one of"),
    ({"Id": "t", "Input": "{not json"}, "not valid JSON"),
    ({"Id": "t", "InputPath": "detail"}, "not a valid JSON path"),
    ({"Id": "t", "InputTransformer": {"InputPathsMap": {}}}, "InputTemplate"),
    ({"Id": "t", "InputTransformer": {"InputPathsMap": {"aws.events.rule-name": "$.x"},
                                      "InputTemplate": "{}"}}, "reserved"),
    ({"Id": "t", "InputTransformer": {"InputPathsMap": {f"v{i}": "$.x" for i in range(101)},
                                      "InputTemplate": "{}"}}, "at most 100"),
])
def test_targets_aws_refuses(target, words):
    with pytest.raises(ValidationException, match=words):
        check_target_input(target)


def test_a_valid_transformer_passes_the_checks():
    check_target_input({"Id": "t", "InputTransformer": {"InputPathsMap": PATHS, "InputTemplate": "{}"}})
