"""The inspection verbs against a SQLite file that ``stepstone run --db`` wrote."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def stepstone(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_run_then_inspect_with_tables_and_json(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    definition = tmp_path / "hello.yaml"
    definition.write_text("StartAt: Hi\nStates:\n  Hi:\n    Type: Pass\n    Result: {greeting: hello}\n    End: true\n")
    run = stepstone("run", str(definition), "--db", db, "--name", "first", "--progress")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"greeting": "hello"}
    assert "PassStateEntered" in run.stderr  # --progress prints the timeline

    machines = stepstone("state-machines", "--db", db)
    assert "hello" in machines.stdout and "STANDARD" in machines.stdout
    listed = json.loads(stepstone("executions", "hello", "--db", db, "--json").stdout)
    assert [e["name"] for e in listed] == ["first"] and listed[0]["status"] == "SUCCEEDED"
    arn = listed[0]["executionArn"]
    described = json.loads(stepstone("describe", arn, "--db", db, "--json").stdout)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"greeting": "hello"}
    timeline = stepstone("history", arn, "--db", db).stdout.splitlines()
    assert [line.split()[2] for line in timeline] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                                      "ExecutionSucceeded"]
    events = json.loads(stepstone("history", arn, "--db", db, "--json").stdout)
    assert events[-1]["type"] == "ExecutionSucceeded"


def test_unknown_execution_is_a_clear_error(tmp_path):
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    result = stepstone("describe", "arn:aws:states:us-east-1:123456789012:execution:sm:none", "--db", db)
    assert result.returncode == 1 and "ExecutionDoesNotExist" in result.stderr


def test_db_upgrade_is_idempotent(tmp_path):
    db = f"sqlite:///{tmp_path / 'up.db'}"
    assert stepstone("db", "upgrade", "--db", db).returncode == 0
    again = stepstone("db", "upgrade", "--db", db)
    assert again.returncode == 0 and "up to date" in again.stdout
