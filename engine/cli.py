"""The ``stepstone`` command: run, validate, serve, worker, db upgrade/purge and inspection verbs.

Exit codes: 0 success; 1 a failed execution or invalid definitions (validate, graph); 2 bad usage or an
invalid definition given to ``run``.
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from engine import display, errors
from engine.asl import parse, validate
from engine.paging import all_pages
from engine.settings import MEMORY_DB, from_environment

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ROLE = "arn:aws:iam::{account}:role/stepstone"
# what `db purge` reports: the rows that expire and the largest of those that go with them
PURGE_REPORT = ("executions", "history_events", "bus_events", "event_deliveries",
                "event_dead_letters")
RETENTION_HELP = ("delete finished executions, settled events and dead letters older than N days "
                  "(default: STEPSTONE_RETENTION_DAYS or 90; 0 keeps everything)")
SOURCES_HELP = ("broker event sources file (JSON/YAML: Redis Streams, NATS JetStream; "
                "default: STEPSTONE_SOURCES)")
logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """The ``stepstone`` command; ``argv`` None is this process's own command line."""
    try:
        return _main(argv)
    finally:
        if argv is None:
            # the process exits next: its last garbage collection need not walk every object still
            # alive (the loaded modules above all), a walk that costs a short `stepstone run` ~45 ms
            gc.freeze()


def _main(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.command(args)
    except errors.ApiError as error:
        print(f"stepstone: {error.code}: {error.message}", file=sys.stderr)
        return EXIT_FAILED
    except (errors.DefinitionError, errors.MockConfigError, FileNotFoundError, ModuleNotFoundError,
            ValueError) as error:
        print(f"stepstone: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


# --- commands ------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    document = _valid_document(args.file, args.type, warnings=False)
    if document is None:
        return EXIT_USAGE
    text_input = _input_text(args.input)
    logging.getLogger("engine.executions").setLevel(logging.ERROR)  # run reports the end itself
    name = _machine_name(Path(args.file).stem)
    mocks = _mocks(args.mock_config, args.test_case, name, document)
    engine = _engine(args, db_default=MEMORY_DB, mocks=mocks, skip_waits=args.skip_waits)
    with engine:
        machine_arn = _ensure_state_machine(engine, name, json.dumps(document), args.type)
        started = engine.start_execution(machine_arn, name=args.name, input=text_input)
        described = _follow(engine, started["executionArn"], progress=sys.stderr.isatty() or args.progress)
    if described["status"] == "SUCCEEDED":
        print(json.dumps(json.loads(described["output"]), indent=2 if sys.stdout.isatty() else None))
        return EXIT_OK
    print(f"{described['status']}: {described.get('error') or ''}"
          f"{': ' + described['cause'] if described.get('cause') else ''}", file=sys.stderr)
    return EXIT_FAILED


def _valid_document(file: str, type_: str, warnings: bool) -> dict | None:
    """The definition in ``file`` when it loads and validates; else None, and what is wrong
    (with the warnings too when ``warnings``) is on stderr."""
    try:
        loaded = parse.load_file(file)
    except errors.DefinitionError as error:
        print(f"{file}: {error}", file=sys.stderr)
        return None
    problems = validate.validate(loaded.document, type_, loaded.lines)
    shown = problems if warnings else [p for p in problems if p.severity == "ERROR"]
    for line in validate.format_for_cli(file, shown):
        print(line, file=sys.stderr)
    return None if any(p.severity == "ERROR" for p in problems) else loaded.document


def _follow(engine, execution_arn: str, progress: bool) -> dict:
    """Drive the execution to its end in this process, printing new history events as they come."""
    shown = 0
    start = None
    while True:
        described = engine.wait(execution_arn, timeout=0.5)
        if progress:
            events = engine.get_execution_history(execution_arn, max_results=1000)["events"]
            for event in events[shown:]:
                start = event["timestamp"] if start is None else start
                print(display.event_line(event, start), file=sys.stderr)
            shown = len(events)
        if described["status"] != "RUNNING":
            return described


def cmd_validate(args: argparse.Namespace) -> int:
    failed = False
    for file in args.files:
        try:
            loaded = parse.load_file(file)
        except errors.DefinitionError as error:
            print(f"{file}: {error}")
            failed = True
            continue
        problems = validate.validate(loaded.document, args.type, loaded.lines)
        for line in validate.format_for_cli(file, problems):
            print(line)
        failed = failed or any(p.severity == "ERROR" for p in problems)
    if failed:
        return EXIT_FAILED
    print("ok")
    return EXIT_OK


GRAPH_SUFFIXES = {".svg": "svg", ".dot": "dot", ".gv": "dot"}  # --output's suffix picks --format


def cmd_graph(args: argparse.Namespace) -> int:
    """A definition's picture; an invalid definition is reported as `validate` reports it."""
    document = _valid_document(args.file, args.type, warnings=True)
    if document is None:
        return EXIT_FAILED
    from engine.graph import render
    fmt = args.format or GRAPH_SUFFIXES.get(Path(args.output or "").suffix.lower(), "mermaid")
    text = render(document, fmt)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _settle_heap() -> None:
    """What a long-running process has loaded by now (modules, compiled definitions) lives as
    long as it does: keep it out of the garbage collector's scans, which otherwise walk it
    again and again while executions allocate (a quarter of a transition's time in Map-heavy
    workloads)."""
    gc.collect()
    gc.freeze()


LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
NO_KEYS_OFF_LOOPBACK = (
    "refusing to serve on {host} without access keys: anyone who can reach it could start and "
    "stop executions. Configure keys with --access-keys FILE or STEPSTONE_ACCESS_KEYS_FILE "
    "(JSON/YAML: {{\"AKID\": \"secret\"}}), or STEPSTONE_ACCESS_KEY_ID and "
    "STEPSTONE_SECRET_ACCESS_KEY; clients then sign as with AWS (boto3, the aws CLI). "
    "Or bind to 127.0.0.1.")


def cmd_serve(args: argparse.Namespace) -> int:
    from engine.api import access_keys
    from engine.api.app import build_server
    from engine.api.sigv4 import Verifier
    settings = from_environment().with_flags(access_keys_file=args.access_keys)
    keys = access_keys.load(settings)  # a bad file stops us here, before the database is opened
    if not keys and args.host not in LOOPBACK_HOSTS:
        print(f"stepstone: {NO_KEYS_OFF_LOOPBACK.format(host=args.host)}", file=sys.stderr)
        return EXIT_USAGE
    finish = _observe_process(args)
    engine = _engine(args).start(args.workers)
    server = build_server(engine, args.host, args.port, Verifier(keys) if keys else None)
    _settle_heap()
    logger.info("serving the Step Functions and EventBridge APIs on http://%s:%d (database %s; %s); "
                "console at /console, metrics at /metrics", args.host, args.port,
                engine.settings.db_url,
                f"SigV4 signatures required, {len(keys)} access key(s)" if keys else "no authentication")
    try:
        server.run()
    finally:
        engine.close()
        finish()
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    finish = _observe_process(args)
    engine = _engine(args).start(args.workers)
    if args.metrics_port is not None:
        from engine.observability import process
        stop_metrics = process.serve_metrics(engine, args.metrics_host, args.metrics_port)
    else:
        stop_metrics = None
    _settle_heap()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    logger.info("worker running on %s", engine.settings.db_url)
    try:
        done.wait()
    finally:
        if stop_metrics is not None:
            stop_metrics()
        engine.close()
        finish()
    return EXIT_OK


def _observe_process(args: argparse.Namespace):
    """Logs (--log-format/--log-level) and tracing (OTEL_*) of serve and worker; returns what
    to call at exit."""
    from engine.observability import process
    settings = from_environment().with_flags(log_format=args.log_format, log_level=args.log_level)
    return process.set_up(settings)


def _observability_flags(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--log-format", choices=["json", "text"],
                     help="stderr log lines (default: STEPSTONE_LOG_FORMAT or json)")
    sub.add_argument("--log-level", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                     help="(default: STEPSTONE_LOG_LEVEL or INFO: a record per execution's end)")


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from engine.store import Store
    url = args.db or from_environment().db_url
    store = Store(url)
    store.upgrade()
    store.close()
    print(f"database {url} is up to date")
    return EXIT_OK


def cmd_db_purge(args: argparse.Namespace) -> int:
    from engine.clock import Clock
    from engine.runtime.retention import Retention
    from engine.store import Store
    settings = from_environment().with_flags(db_url=args.db, retention_days=args.older_than_days)
    if settings.retention_days <= 0:
        raise ValueError("retention is off (0 days, or STEPSTONE_RETENTION_DAYS empty): "
                         "give --older-than-days N, N above 0, to purge")
    with Store(settings.db_url) as store:
        counts = Retention(store, settings, Clock()).purge(dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    rows = ", ".join(f"{counts.get(table, 0)} {table}" for table in PURGE_REPORT)
    print(f"{verb} (finished or settled more than {settings.retention_days:g} days ago): {rows}")
    return EXIT_OK


def cmd_state_machines(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        rows = all_pages(engine.list_state_machines, "stateMachines")
    return _show(args, rows, [("name", "NAME"), ("type", "TYPE"), ("creationDate", "CREATED"),
                              ("stateMachineArn", "ARN")])


def cmd_start(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        arn = _state_machine_arn(engine, args.state_machine)
        started = engine.start_execution(arn, name=args.name, input=_input_text(args.input))
    if args.json:
        print(json.dumps(started))
    else:
        print(started["executionArn"])
    return EXIT_OK


def cmd_executions(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        arn = _state_machine_arn(engine, args.state_machine)
        rows = all_pages(lambda **kw: engine.list_executions(
            state_machine_arn=arn, status_filter=args.status, **kw), "executions")
    return _show(args, rows, [("name", "NAME"), ("status", "STATUS"), ("startDate", "STARTED"),
                              ("stopDate", "STOPPED"), ("executionArn", "ARN")])


def cmd_describe(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        described = engine.describe_execution(args.execution)
    if args.json:
        print(json.dumps(described, indent=2))
        return EXIT_OK
    for key in ("executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate",
                "input", "output", "error", "cause"):
        if key in described:
            value = display.when(described[key]) if key.endswith("Date") else described[key]
            print(f"{key:>16}: {value}")
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        events = all_pages(lambda **kw: engine.get_execution_history(
            args.execution, reverse_order=args.reverse, **kw), "events")
    if args.json:
        print(json.dumps(events, indent=2))
    else:
        print(display.timeline(events))
    return EXIT_OK


def cmd_stop(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        stopped = engine.stop_execution(args.execution, error=args.error, cause=args.cause)
    print(json.dumps(stopped) if args.json else f"stopped at {display.when(stopped['stopDate'])}")
    return EXIT_OK


def cmd_tokens(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        rows = all_pages(lambda **kw: engine.list_waiting_tasks(
            execution_arn=args.execution, state_name=args.state, activity_arn=args.activity,
            older_than_seconds=args.older_than, **kw), "tasks")
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for row in rows:
        row["age"] = display.duration(row["ageSeconds"])
        row["execution"] = row["executionArn"].rsplit(":", 2)[-2] + ":" + row["executionArn"].rsplit(":", 1)[-1]
        row["payload"] = display.clip(row["input"] or "", 60)
    print(display.table(rows, [("execution", "EXECUTION"), ("stateName", "STATE"), ("age", "AGE"),
                               ("deadline", "DEADLINE"), ("taskToken", "TOKEN"), ("payload", "INPUT")]))
    return EXIT_OK


def cmd_send_task_success(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        engine.send_task_success(args.token, _input_text(args.output, "--output"))
    print("sent")
    return EXIT_OK


def cmd_send_task_failure(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        engine.send_task_failure(args.token, error=args.error, cause=args.cause)
    print("sent")
    return EXIT_OK


def cmd_send_task_heartbeat(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        engine.send_task_heartbeat(args.token)
    print("sent")
    return EXIT_OK


def cmd_redrive(args: argparse.Namespace) -> int:
    with _engine(args) as engine:
        redriven = engine.redrive_execution(args.execution, client_token=args.client_token)
    print(json.dumps(redriven) if args.json else f"redriven at {display.when(redriven['redriveDate'])}")
    return EXIT_OK


# --- helpers ---------------------------------------------------------------------------------------
def _engine(args: argparse.Namespace, db_default: str | None = None, mocks=None, **settings: Any):
    from engine.service import Engine
    env = from_environment()
    url = getattr(args, "db", None) or db_default or env.db_url
    flags = {"db_url": url, "handlers": tuple(getattr(args, "handlers", None) or ()),
             "http_allow": tuple(getattr(args, "http_allow", None) or ()),
             "connections": getattr(args, "connections", None),
             "sources": getattr(args, "sources", None),
             "retention_days": getattr(args, "retention_days", None), **settings}
    return Engine(settings=env.with_flags(**flags), mocks=mocks)


def _mocks(mock_config: str | None, test_case: str | None, machine: str, definition: dict):
    """The --mock-config test case as a mocks.Session, or None; both flags or neither."""
    if mock_config is None and test_case is None:
        return None
    if mock_config is None or test_case is None:
        raise ValueError("--mock-config FILE and --test-case NAME go together")
    from engine.runtime import mocks
    return mocks.from_file(mock_config, machine, test_case, definition)


def _input_text(value: str | None, flag: str = "--input") -> str:
    if value is None:
        return "{}"
    if value.startswith("@"):
        value = Path(value[1:]).read_text()
    try:
        json.loads(value)
    except ValueError as error:
        raise ValueError(f"{flag} is not JSON: {error}") from None
    return value


def _machine_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", stem)[:80] or "state-machine"


def _ensure_state_machine(engine, name: str, definition: str, type_: str) -> str:
    role = ROLE.format(account=engine.settings.account)
    try:
        return engine.create_state_machine(name=name, definition=definition, role_arn=role,
                                           type=type_)["stateMachineArn"]
    except errors.StateMachineAlreadyExists:
        arn = _state_machine_arn(engine, name)
        engine.update_state_machine(arn, definition=definition)
        return arn


def _state_machine_arn(engine, name_or_arn: str) -> str:
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    from engine.arns import state_machine_arn
    return state_machine_arn(engine.settings.region, engine.settings.account, name_or_arn)


def _show(args: argparse.Namespace, rows: list[dict], columns: list[tuple[str, str]]) -> int:
    print(json.dumps(rows, indent=2) if args.json else display.table(rows, columns))
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stepstone", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, handler, help_text: str, db: bool = True, handlers: bool = False,
                json_flag: bool = False) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(command=handler)
        if db:
            sub.add_argument("--db", help="database URL (default: STEPSTONE_DB_URL or sqlite:///stepstone.db)")
        if handlers:
            sub.add_argument("--handlers", action="append", metavar="MODULE",
                             help="import MODULE (dotted name or .py file) to register @task handlers; repeatable")
            sub.add_argument("--http-allow", action="append", metavar="HOST[:PORT]",
                             help="a host (pattern) the HTTP Task may call; repeatable")
            sub.add_argument("--connections", metavar="FILE", help="EventBridge connections file (JSON/YAML)")
        if json_flag:
            sub.add_argument("--json", action="store_true", help="machine-readable JSON output")
        return sub

    run = command("run", cmd_run, "run one execution of a definition to its end and print its output",
                  handlers=True)
    run.add_argument("file")
    run.add_argument("--input", help="input JSON, or @FILE")
    run.add_argument("--name", help="execution name")
    run.add_argument("--type", default="STANDARD", choices=["STANDARD", "EXPRESS"])
    run.add_argument("--skip-waits", action="store_true",
                     help="virtual time: Wait states and retry back-offs take no time")
    run.add_argument("--progress", action="store_true", help="print history events even when stderr is not a terminal")
    run.add_argument("--mock-config", metavar="FILE",
                     help="AWS Step Functions Local mock configuration (JSON or YAML); needs --test-case")
    run.add_argument("--test-case", metavar="NAME",
                     help="the test case of this state machine (the file's name) in --mock-config")

    check = command("validate", cmd_validate, "validate definitions; print FILE:LINE: PATH: MESSAGE per problem",
                    db=False)
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--type", default="STANDARD", choices=["STANDARD", "EXPRESS"])

    graph = command("graph", cmd_graph, "draw a definition as Mermaid, Graphviz DOT or SVG", db=False)
    graph.add_argument("file", metavar="FILE")
    graph.add_argument("--format", choices=["mermaid", "dot", "svg"],
                       help="default: svg for --output *.svg, dot for *.dot or *.gv, else mermaid")
    graph.add_argument("--output", metavar="PATH", help="write here instead of standard output")
    graph.add_argument("--type", default="STANDARD", choices=["STANDARD", "EXPRESS"])

    serve = command("serve", cmd_serve, "serve the AWS-compatible API and run the executor", handlers=True)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8083)
    serve.add_argument("--workers", type=int, default=None, help="executor threads (default 2)")
    serve.add_argument("--sources", metavar="FILE", help=SOURCES_HELP)
    serve.add_argument("--access-keys", metavar="FILE",
                       help="access keys whose SigV4 signatures the API accepts (JSON/YAML: "
                            "{AKID: secret} or a list of {access_key_id, secret_access_key}); "
                            "required off loopback (default: STEPSTONE_ACCESS_KEYS_FILE)")
    serve.add_argument("--retention-days", type=float, metavar="N", help=RETENTION_HELP)
    _observability_flags(serve)

    worker = command("worker", cmd_worker, "run only the executor (scale out on a shared PostgreSQL)",
                     handlers=True)
    worker.add_argument("--workers", type=int, default=None)
    worker.add_argument("--sources", metavar="FILE", help=SOURCES_HELP)
    worker.add_argument("--retention-days", type=float, metavar="N", help=RETENTION_HELP)
    _observability_flags(worker)
    worker.add_argument("--metrics-port", type=int, metavar="N",
                        help="answer Prometheus scrapes on GET :N/metrics (default: no metrics)")
    worker.add_argument("--metrics-host", default="127.0.0.1",
                        help="the address of --metrics-port (0.0.0.0: every interface)")

    db = commands.add_parser("db", help="database administration")
    db_commands = db.add_subparsers(title="db commands", metavar="COMMAND")
    upgrade = db_commands.add_parser("upgrade", help="apply the migrations")
    upgrade.add_argument("--db")
    upgrade.set_defaults(command=cmd_db_upgrade)
    purge = db_commands.add_parser(
        "purge", help="delete expired executions and events now (serve and worker do it hourly)")
    purge.add_argument("--db")
    purge.add_argument("--older-than-days", type=float, metavar="N",
                       help="the age to keep (default: STEPSTONE_RETENTION_DAYS or 90)")
    purge.add_argument("--dry-run", action="store_true", help="count what would be deleted")
    purge.set_defaults(command=cmd_db_purge)

    command("state-machines", cmd_state_machines, "list state machines", json_flag=True)
    start = command("start", cmd_start, "start an execution (a serve or worker process runs it on)",
                    json_flag=True)
    start.add_argument("state_machine", metavar="STATE_MACHINE", help="name or ARN")
    start.add_argument("--input")
    start.add_argument("--name")
    executions = command("executions", cmd_executions, "list a state machine's executions", json_flag=True)
    executions.add_argument("state_machine", metavar="STATE_MACHINE", help="name or ARN")
    executions.add_argument("--status", choices=["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])
    describe = command("describe", cmd_describe, "describe an execution", json_flag=True)
    describe.add_argument("execution", metavar="EXECUTION_ARN")
    history = command("history", cmd_history, "an execution's history as a timeline", json_flag=True)
    history.add_argument("execution", metavar="EXECUTION_ARN")
    history.add_argument("--reverse", action="store_true")
    stop = command("stop", cmd_stop, "stop a running execution", json_flag=True)
    stop.add_argument("execution", metavar="EXECUTION_ARN")
    stop.add_argument("--error")
    stop.add_argument("--cause")

    tokens = command("tokens", cmd_tokens, "list the tasks waiting for an answer (people, activity "
                     "workers, callbacks), oldest first", json_flag=True)
    tokens.add_argument("--execution", metavar="EXECUTION_ARN")
    tokens.add_argument("--state", metavar="STATE_NAME")
    tokens.add_argument("--activity", metavar="ACTIVITY_ARN")
    tokens.add_argument("--older-than", type=float, metavar="SECONDS", help="waiting at least this long")
    success = command("send-task-success", cmd_send_task_success, "answer a task token with its output")
    success.add_argument("token", metavar="TASK_TOKEN")
    success.add_argument("--output", default="{}", help="output JSON, or @FILE (default {})")
    failure = command("send-task-failure", cmd_send_task_failure, "fail the task of a task token")
    failure.add_argument("token", metavar="TASK_TOKEN")
    failure.add_argument("--error")
    failure.add_argument("--cause")
    beat = command("send-task-heartbeat", cmd_send_task_heartbeat, "tell a waiting task its worker is alive")
    beat.add_argument("token", metavar="TASK_TOKEN")

    redrive = command("redrive", cmd_redrive,
                      "restart a FAILED, TIMED_OUT or ABORTED execution from its unsuccessful states "
                      "(a serve or worker process runs it on)", json_flag=True)
    redrive.add_argument("execution", metavar="EXECUTION_ARN")
    redrive.add_argument("--client-token", help="idempotency token (1-64 printable ASCII characters)")

    from engine import cli_events
    cli_events.register(commands, command)
    return parser
