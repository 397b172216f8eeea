"""`stepstone run` starts fast because it imports only what it uses: a module-level import of one
of these (PyYAML, the JSONata library, the PostgreSQL dialect, the HTTP task, the broker sources,
the EventBridge API and pattern compiler, the HTTP server, Alembic, the metrics and tracing
libraries) would bring its cost back.

Each check runs in a fresh interpreter, since this test process has imported everything already.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# what `stepstone run` of a JSONPath definition without Task states never needs
NOT_ON_THE_RUN_PATH = {
    "yaml", "jsonata", "sqlalchemy.dialects.postgresql", "psycopg", "alembic", "starlette", "uvicorn",
    "redis", "nats", "http.client", "urllib.request",
    "engine.api", "engine.eventbus.sources", "engine.eventbus.patterns", "engine.eventbus.index",
    "engine.eventbus.schedule", "engine.service_events", "engine.runtime.http_task", "engine.runtime.mocks",
    # observability: the Prometheus client, OpenTelemetry and the JSON logger are for serve/worker
    "prometheus_client", "opentelemetry", "pythonjsonlogger", "engine.observability.metrics",
    "engine.observability.tracing",
}
THREE_STATES = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Parameters": {"n.$": "$.n", "ok": True}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}]},
        "Done": {"Type": "Succeed"},
    },
}


def loaded_after(code: str, watched: set[str]) -> list[str]:
    """The watched modules (or their submodules) that ``code`` left imported in a new interpreter."""
    probe = (f"{code}\nimport json, sys\n"
             f"watched = {sorted(watched)!r}\n"
             "print('LOADED', json.dumps(sorted(w for w in watched\n"
             "                                  if any(m == w or m.startswith(w + '.') for m in sys.modules))))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("LOADED "))
    return json.loads(line[len("LOADED "):])


def test_importing_the_package_loads_neither_the_engine_nor_sqlalchemy():
    assert loaded_after("import engine", {"engine.service", "engine.store", "sqlalchemy", "jsonschema"}) == []


def test_importing_the_cli_loads_nothing_that_run_does_not_need():
    assert loaded_after("import engine.cli", NOT_ON_THE_RUN_PATH | {"engine.service", "sqlalchemy"}) == []


def test_stepstone_run_of_a_jsonpath_definition_loads_nothing_it_does_not_use(tmp_path):
    definition = tmp_path / "three_states.asl.json"
    definition.write_text(json.dumps(THREE_STATES))
    run = (f"from engine import cli\n"
           f"assert cli.main(['run', {str(definition)!r}, '--input', '{{\"n\": 1}}']) == 0")
    assert loaded_after(run, NOT_ON_THE_RUN_PATH) == []


def test_the_lazy_modules_still_load_when_used(tmp_path):
    """The same probe sees a module that is used: an empty answer above is not a blind probe."""
    definition = tmp_path / "jsonata.asl.yaml"
    definition.write_text("QueryLanguage: JSONata\nStartAt: Add\nStates:\n"
                          "  Add: {Type: Pass, Output: '{% $states.input.n + 1 %}', End: true}\n")
    run = (f"from engine import cli\n"
           f"assert cli.main(['run', {str(definition)!r}, '--input', '{{\"n\": 1}}']) == 0")
    assert loaded_after(run, {"yaml", "jsonata"}) == ["jsonata", "yaml"]
