"""Every example in definitions/ runs with ``stepstone run`` and gives the documented result."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from local_http import start_file_server

REPO = Path(__file__).resolve().parents[2]
DEFINITIONS = REPO / "definitions"
ALL_EXAMPLES = sorted(p for p in DEFINITIONS.iterdir() if p.suffix in (".json", ".yaml")
                      and not p.name.endswith((".input.json", ".mocks.json", ".rules.yaml", ".sources.yaml",
                                               ".sources.yml", ".sources.json")))
# examples that wait for a person run with a simulated approver in test_approval.py
INTERACTIVE = {"approval", "activity-review"}
EXAMPLES = [p for p in ALL_EXAMPLES if p.name.split(".")[0] not in INTERACTIVE]

EXPECTED = {
    "order-processing": lambda out: out["status"] == "CONFIRMED" and out["message"] == "Order order-1001 confirmed",
    "line-items-map": lambda out: [line["total"] for line in out["lines"]] == [3.0, 4.5, 14.0] and out["lineCount"] == 3,
    "parallel-fanout": lambda out: out["email"]["channel"] == "email" and out["sms"]["to"] == "+15550100",
    "reminder-wait": lambda out: out["reminded"] == "grace@example.com",
    "choice-router": lambda out: out == {"queue": "billing", "ticket": "T-42"},
    "http-call": lambda out: out == {"found": True, "status": 200, "ticket": "T-42"},
}


def stepstone(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def file_server():
    """What the http-call example calls: ``python -m http.server`` over definitions/ (README)."""
    server = start_file_server(DEFINITIONS)
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_every_example_is_covered():
    assert {p.name.split(".")[0] for p in ALL_EXAMPLES} == set(EXPECTED) | INTERACTIVE
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example: Path, file_server: str):
    stem = example.name.split(".")[0]
    given, http = f"@{DEFINITIONS / (stem + '.input.json')}", []
    if stem == "http-call":  # the local file server on its free port, allowed and authorised by flags
        given = json.dumps({**json.loads((DEFINITIONS / "http-call.input.json").read_text()),
                            "api": f"http://{file_server}"})
        http = ["--http-allow", file_server, "--connections", str(REPO / "docs" / "connections.example.yaml")]
    result = stepstone("run", str(example), "--input", given,
                       "--handlers", str(DEFINITIONS / "handlers.py"), "--skip-waits", *http)
    assert result.returncode == 0, result.stderr
    assert EXPECTED[stem](json.loads(result.stdout))


def test_declined_payment_compensates_and_exits_1():
    order = json.loads((DEFINITIONS / "order-processing.input.json").read_text())
    order["amount"] = 900
    result = stepstone("run", str(DEFINITIONS / "order-processing.yaml"), "--input", json.dumps(order),
                       "--handlers", str(DEFINITIONS / "handlers.py"))
    assert result.returncode == 1
    assert "PaymentDeclined" in result.stderr


def test_validate_examples_ok_and_bad_file_reports_path_and_line(tmp_path):
    assert stepstone("validate", *map(str, ALL_EXAMPLES)).stdout.strip() == "ok"
    bad = tmp_path / "bad.yaml"
    bad.write_text("StartAt: A\nStates:\n  A:\n    Type: Pass\n    Next: Nowhere\n")
    result = stepstone("validate", str(bad))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{bad}:5: $.States.A.Next:") or f"{bad}:5:" in result.stdout


def test_run_rejects_invalid_definition_with_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"StartAt": "A", "States": {}}')
    result = stepstone("run", str(bad))
    assert result.returncode == 2 and "bad.json" in result.stderr


def test_run_reports_failed_execution_on_stderr(tmp_path):
    failing = tmp_path / "fail.json"
    failing.write_text('{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "because"}}}')
    result = stepstone("run", str(failing))
    assert result.returncode == 1 and "Nope" in result.stderr and "because" in result.stderr
