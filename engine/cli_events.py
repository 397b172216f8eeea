"""The event-bus verbs of the ``stepstone`` command (registered by ``engine.cli``).

    stepstone events put --source S --detail-type T --detail JSON|@FILE [--bus NAME]
    stepstone events dead-letters [redrive ID | redrive --all]
    stepstone rules [--bus NAME]                 list
    stepstone rules show NAME                    a rule and its targets
    stepstone rules test NAME --event FILE       does the rule match this event?
    stepstone rules test --pattern JSON --event FILE
    stepstone rules load FILE                    put the rules (and targets) a *.rules.yaml holds

Like the other inspection verbs they work on the database directly; a ``serve`` or ``worker``
process delivers the events.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from engine import arns, display, errors
from engine.asl import parse

EXIT_OK, EXIT_FAILED = 0, 1


def register(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add ``events`` and ``rules`` to the CLI's subcommands (``command`` is cli's helper)."""
    events = commands.add_parser("events", help="put events on the bus; dead letters")
    verbs = events.add_subparsers(title="events commands", metavar="COMMAND")
    put = _verb(verbs, "put", cmd_put, "put one event on a bus (PutEvents)")
    put.add_argument("--bus", default="default", help="event bus name or ARN (default: default)")
    put.add_argument("--source", required=True)
    put.add_argument("--detail-type", required=True)
    put.add_argument("--detail", default="{}", help="detail JSON object, or @FILE (default {})")
    put.add_argument("--resources", nargs="*", default=[], metavar="ARN")
    letters = _verb(verbs, "dead-letters", cmd_dead_letters,
                    "list deliveries that failed for good; 'redrive ID' or 'redrive --all' "
                    "delivers them again")
    letters.add_argument("action", nargs="?", choices=["list", "redrive"], default="list")
    letters.add_argument("id", nargs="?", type=int, metavar="ID")
    letters.add_argument("--all", action="store_true", help="redrive every dead letter")

    rules = command("rules", cmd_rules, "event rules: list, show NAME, test, load FILE", json_flag=True)
    rules.add_argument("action", nargs="?", choices=["list", "show", "test", "load"], default="list")
    rules.add_argument("name", nargs="?", metavar="NAME|FILE", help="rule name (show, test) or file (load)")
    rules.add_argument("--bus", default=None, help="event bus name or ARN (default: default)")
    rules.add_argument("--event", metavar="FILE", help="test: the event (JSON file, or - for stdin)")
    rules.add_argument("--pattern", help="test: an event pattern (JSON, or @FILE) instead of a rule")


def _verb(verbs: Any, name: str, handler, help_text: str) -> argparse.ArgumentParser:
    sub = verbs.add_parser(name, help=help_text, description=help_text)
    sub.set_defaults(command=handler)
    sub.add_argument("--db", help="database URL (default: STEPSTONE_DB_URL or sqlite:///stepstone.db)")
    sub.add_argument("--json", action="store_true", help="machine-readable JSON output")
    return sub


def _engine(args: argparse.Namespace):
    from engine.cli import _engine as engine_for
    return engine_for(args)


def _text(value: str) -> str:
    return Path(value[1:]).read_text() if value.startswith("@") else value


# --- events --------------------------------------------------------------------------------------
def cmd_put(args: argparse.Namespace) -> int:
    entry = {"Source": args.source, "DetailType": args.detail_type, "Detail": _text(args.detail),
             "EventBusName": args.bus, "Resources": args.resources}
    with _engine(args) as engine:
        answer = engine.events.put_events([entry])
    result = answer["Entries"][0]
    if args.json:
        print(json.dumps(answer))
    elif "EventId" in result:
        print(result["EventId"])
    else:
        print(f"stepstone: {result['ErrorCode']}: {result['ErrorMessage']}")
    return EXIT_FAILED if answer["FailedEntryCount"] else EXIT_OK


def cmd_dead_letters(args: argparse.Namespace) -> int:
    if args.action == "redrive" and args.all == (args.id is not None):
        raise ValueError("redrive takes a dead letter ID or --all")
    with _engine(args) as engine:
        if args.action == "list" or args.all:
            letters = _all(engine.events.list_dead_letters, "DeadLetters")
        if args.action == "list":
            return _show_letters(args, letters)
        ids = [letter["Id"] for letter in letters] if args.all else [args.id]
        for letter_id in ids:
            engine.events.redrive_dead_letter(letter_id)
    print(json.dumps({"Redriven": ids}) if args.json else f"redriven: {len(ids)}")
    return EXIT_OK


def _show_letters(args: argparse.Namespace, letters: list[dict]) -> int:
    if args.json:
        print(json.dumps(letters, indent=2))
        return EXIT_OK
    for letter in letters:
        letter["when"] = display.when(letter["Created"])
        letter["error"] = display.clip(letter["Error"] or "", 60)
    print(display.table(letters, [("Id", "ID"), ("when", "CREATED"), ("Rule", "RULE"),
                                  ("TargetId", "TARGET"), ("Attempts", "ATTEMPTS"),
                                  ("EventId", "EVENT"), ("error", "ERROR")]))
    return EXIT_OK


# --- rules ---------------------------------------------------------------------------------------
def cmd_rules(args: argparse.Namespace) -> int:
    handlers = {"list": _list_rules, "show": _show_rule, "test": _test_rule, "load": _load_rules}
    if args.action in ("show", "load") and not args.name:
        raise ValueError(f"rules {args.action} needs a {'FILE' if args.action == 'load' else 'rule NAME'}")
    with _engine(args) as engine:
        return handlers[args.action](engine, args)


def _list_rules(engine, args: argparse.Namespace) -> int:
    rules = _all(lambda **kw: engine.events.list_rules(event_bus_name=args.bus, **kw), "Rules")
    if args.json:
        print(json.dumps(rules, indent=2))
        return EXIT_OK
    for rule in rules:
        rule["what"] = rule.get("ScheduleExpression") or display.clip(rule.get("EventPattern", ""), 60)
    print(display.table(rules, [("Name", "NAME"), ("State", "STATE"), ("what", "PATTERN/SCHEDULE"),
                                ("Description", "DESCRIPTION")]))
    return EXIT_OK


def _show_rule(engine, args: argparse.Namespace) -> int:
    rule = engine.events.describe_rule(args.name, event_bus_name=args.bus)
    rule["Targets"] = _all(lambda **kw: engine.events.list_targets_by_rule(
        args.name, event_bus_name=args.bus, **kw), "Targets")
    if args.json:
        print(json.dumps(rule, indent=2))
        return EXIT_OK
    for key in ("Name", "Arn", "EventBusName", "State", "Description", "EventPattern",
                "ScheduleExpression"):
        if key in rule:
            print(f"{key:>18}: {rule[key]}")
    print(display.table(rule["Targets"], [("Id", "TARGET"), ("Arn", "ARN")]))
    return EXIT_OK


def _test_rule(engine, args: argparse.Namespace) -> int:
    if not args.event or (args.pattern is None) == (args.name is None):
        raise ValueError("rules test takes a rule NAME or --pattern JSON, and --event FILE")
    pattern = (_text(args.pattern) if args.pattern is not None
               else engine.events.describe_rule(args.name, event_bus_name=args.bus).get("EventPattern"))
    if pattern is None:
        raise ValueError(f"rule {args.name} has no event pattern (a scheduled rule)")
    event = Path(args.event).read_text() if args.event != "-" else sys.stdin.read()
    matched = engine.events.test_event_pattern(pattern, event)["Result"]
    print(json.dumps({"Result": matched}) if args.json else ("match" if matched else "no match"))
    return EXIT_OK if matched else EXIT_FAILED


def _load_rules(engine, args: argparse.Namespace) -> int:
    loaded = load_rules_file(engine, args.name)
    print(json.dumps(loaded) if args.json else "\n".join(f"rule {arn}" for arn in loaded))
    return EXIT_OK


def load_rules_file(engine, path: str) -> list[str]:
    """Put every rule of a ``*.rules.yaml`` (PutRule's and PutTargets' members) and its targets.

    A target's ``Arn`` may be a state machine's name. Returns the rule ARNs.
    """
    document = parse.load_file(path).document
    bus = document.get("EventBusName", "default")
    arn_list = []
    for rule in document.get("Rules") or []:
        pattern = rule.get("EventPattern")
        arn = engine.events.put_rule(
            rule["Name"], event_pattern=pattern if isinstance(pattern, str) or pattern is None
            else json.dumps(pattern), schedule_expression=rule.get("ScheduleExpression"),
            state=rule.get("State"), description=rule.get("Description"),
            event_bus_name=bus)["RuleArn"]
        targets = [_target(engine, target) for target in rule.get("Targets") or []]
        if targets:
            answer = engine.events.put_targets(rule["Name"], targets, event_bus_name=bus)
            if answer["FailedEntryCount"]:
                raise errors.ValidationException(json.dumps(answer["FailedEntries"]))
        arn_list.append(arn)
    return arn_list


def _target(engine, target: dict) -> dict:
    target = dict(target)
    if not str(target.get("Arn", "")).startswith("arn:"):
        target["Arn"] = arns.state_machine_arn(engine.settings.region, engine.settings.account,
                                               target["Arn"])
    if isinstance(target.get("Input"), (dict, list)):
        target["Input"] = json.dumps(target["Input"])
    return target


def _all(call, key: str) -> list[dict]:
    rows, token = [], None
    while True:
        page = call(next_token=token) if token else call()
        rows.extend(page[key])
        token = page.get("NextToken")
        if not token:
            return rows
