"""The AWS-recorded corpus, replayed through boto3 against a real ``stepstone serve``.

Guards the issue's bar on the state-language subset: at least 95% of the recorded histories and
98% of the outcomes. Skipped when the shared corpus is not beside the repository.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFORMANCE = REPO.parent / "shared" / "conformance"
SUBSET = "pass,choice,map,intrinsics,context_object,catch,fail,wait,succeed,retry,parallel,validation,express,sync_start"

sys.path.insert(0, str(REPO / "tests" / "integration"))
from support import Server  # noqa: E402


@pytest.mark.skipif(not (CONFORMANCE / "run_sfn.py").exists(), reason="shared conformance corpus not present")
def test_state_language_subset_meets_the_bar(tmp_path):
    server = Server(f"sqlite:///{tmp_path / 'conformance.db'}").start()
    report = tmp_path / "report.json"
    try:
        subprocess.run([sys.executable, str(CONFORMANCE / "run_sfn.py"), "--endpoint", server.endpoint,
                        "--cases", str(CONFORMANCE / "sfn" / "cases.jsonl"), "--only", SUBSET,
                        "--jobs", "8", "--report", str(report)],
                       check=True, capture_output=True, timeout=600)
    finally:
        server.stop()
    summary = json.loads(report.read_text())["summary"]
    history, outcome = summary["history"], summary["outcome"]
    failures = [r["id"] for r in json.loads(report.read_text())["results"]
                if r["outcome"] == "fail" or r.get("history") == "fail"]
    assert history["passed"] / (history["passed"] + history["failed"]) >= 0.95, failures
    assert outcome["passed"] / (outcome["passed"] + outcome["failed"]) >= 0.98, failures
