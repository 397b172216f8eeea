"""W1-W7 in every mode, one command: transitions/s, executions/s, peak RSS and the ratio to the floor.

    python bench/run.py [--modes memory,sqlite,postgres,http] [--workloads W1,...] [--samples 5]
                        [--quick] [--json bench/results.json]

The workloads (definitions, inputs, expected outputs, manifest) and the floor come from the shared
benchmark folder (``../shared/bench``, or ``$STEPSTONE_BENCH_SHARED``). Modes:

* ``memory``: ``Engine.in_memory()``, an EXPRESS state machine, ``StartSyncExecution``: the
  in-process runner (``Engine._run_in_memory``: interpreter.start/advance, handlers on a pool). The
  interpreter builds every history event; nothing is persisted. W7 (a one-hour Wait) does not apply.
* ``sqlite``: STANDARD executions on a SQLite file (synchronous=FULL, the default): StartExecution for
  all of a workload's executions, then ``run_until_idle()`` in this thread (``--sqlite-workers N``:
  ``Engine.start(N)`` instead), then DescribeExecution of each for its output.
* ``postgres``: the same on PostgreSQL in a fresh schema, run by 1, 2 and 4 ``stepstone worker``
  processes (``--pg-workers``; one executor thread each, as a fleet would run them) while this
  process starts the executions and waits. W1-W5 and W7 end or park inside StartExecution, so they
  run with the first worker count only (``--pg-all-workers`` for all); W6 runs with each.
* ``http``: a ``python -m engine serve`` subprocess on a SQLite file, driven with boto3
  (``--http-clients`` threads, one client each): StartExecution over HTTP, then DescribeExecution
  until each ends. Peak RSS is the server's.

Every sample repeats the whole workload until it lasts ``--min-seconds``; the first sample is a
warm-up; figures are medians. Each execution's output is compared with the workload's expected
output (W5: ``{"n": i, "ok": true}`` for input ``{"n": i}``; W7: status RUNNING). The floor
(``floor.measure``) is measured right before each W1-W5 engine measurement, so every ratio compares
two figures taken within seconds of each other. W7 runs in a fresh child process (or a fresh
server) so that its RSS growth is that of 10,000 parked executions, not of earlier workloads.
Finally ``python -m engine run bench/three_states.asl.json`` is timed (median of 5 wall times).
"""
from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent import futures
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_BENCH = Path(os.environ.get("STEPSTONE_BENCH_SHARED", REPO.parent / "shared" / "bench"))
sys.path.insert(0, str(SHARED_BENCH))
sys.path.insert(0, str(REPO))
from floor import floor_run, load, measure  # noqa: E402

from engine import Engine  # noqa: E402
from engine.settings import from_environment  # noqa: E402

HANDLERS = str(REPO / "bench" / "handlers.py")
THREE_STATES = "bench/three_states.asl.json"
ROLE = "arn:aws:iam::123456789012:role/bench"
ALL_WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W6", "W7"]
FLOOR_WORKLOADS = {"W1", "W2", "W3", "W4", "W5"}
PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
QUICK_EXECUTIONS = {"W5": 500, "W6": 100, "W7": 2000}
REP_TIMEOUT = 600.0  # seconds one repetition of a workload may take before it counts as stuck
MB = 1024.0


# ---- the process's memory -------------------------------------------------------------------
def vm(pid: int | str = "self") -> dict:
    """VmRSS and VmHWM (peak) of a process, in MB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount = line.split(":")
                values[key] = int(amount.split()[0]) / MB
    return values


def reset_peak(pid: int | str = "self") -> bool:
    """Reset VmHWM to the current RSS (Linux: 5 > clear_refs), so the next peak is this workload's."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


# ---- workloads ------------------------------------------------------------------------------
class Workload:
    def __init__(self, wid: str, executions: int | None = None):
        self.wid = wid
        self.definition, self.input, self.expected, self.entry = load(wid)
        self.executions = executions or self.entry["executions"]
        self.transitions = self.entry["transitions_per_execution"] * self.executions
        self.scaled = self.executions != self.entry["executions"]
        if wid == "W5":
            self.inputs = [{"n": i} for i in range(self.executions)]
        else:
            self.inputs = [self.input] * self.executions
        self.texts = [json.dumps(x) for x in self.inputs]

    def expected_for(self, value: dict):
        return {"n": value["n"], "ok": True} if self.wid == "W5" else self.expected

    def check(self, index: int, status: str, output: str | None) -> str | None:
        """None if execution ``index`` ended as expected, else what is wrong."""
        if self.wid == "W7":
            return None if status == "RUNNING" else f"execution {index}: {status}, expected RUNNING"
        if status != "SUCCEEDED":
            return f"execution {index}: {status}"
        got = json.loads(output)
        want = self.expected_for(self.inputs[index])
        return None if got == want else f"execution {index}: output {got!r} != expected {want!r}"


def sample(run_once, samples: int, min_seconds: float) -> tuple[float, list[str]]:
    """Median repetitions per second of ``run_once`` (the first sample is a warm-up)."""
    rates, problems = [], []
    for _ in range(samples + 1):
        reps, start = 0, time.perf_counter()
        while True:
            problems.extend(run_once())
            reps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        rates.append(reps / elapsed)
    return statistics.median(rates[1:]), problems


# ---- modes ----------------------------------------------------------------------------------
class Mode:
    name = ""
    pid: int | str = "self"  # the process whose RSS is reported

    def supports(self, wid: str) -> str | None:
        """None if this mode runs ``wid``, else why not."""
        return None

    def prepare(self, workload: Workload):
        """Return ``run_once() -> [problems]`` running all of the workload's executions once."""
        raise NotImplementedError

    def parked(self, workload: Workload) -> dict:
        """W7: start the executions; return start_rate, rss_before, rss_after, peak, problems."""
        raise NotImplementedError

    def close(self) -> None:
        pass


_names = iter(range(1, 1 << 30))


def machine_name(wid: str) -> str:
    return f"bench-{wid}-{os.getpid()}-{next(_names)}"


class MemoryMode(Mode):
    name = "memory"

    def __init__(self):
        self.engine = Engine.in_memory(handlers=(HANDLERS,))

    def supports(self, wid):
        return "EXPRESS waits in memory: a one-hour Wait cannot be parked" if wid == "W7" else None

    def prepare(self, workload):
        arn = self.engine.create_state_machine(name=machine_name(workload.wid), type="EXPRESS",
                                               definition=json.dumps(workload.definition),
                                               role_arn=ROLE)["stateMachineArn"]

        def run_once():
            problems = []
            for index, text in enumerate(workload.texts):
                answer = self.engine.start_sync_execution(arn, input=text)
                problem = workload.check(index, answer["status"], answer.get("output"))
                if problem:
                    problems.append(problem)
            return problems
        return run_once

    def close(self):
        self.engine.close()


class DurableMode(Mode):
    """STANDARD executions on a database; ``workers`` 0 drives them in this thread, unless
    ``processes``: that many ``stepstone worker`` processes (one executor thread each) do."""

    def __init__(self, name: str, db_url: str, workers: int, only: set[str] | None = None,
                 processes: int = 0):
        self.name, self.db_url, self.workers, self.only = name, db_url, workers, only
        self.engine = Engine(settings=from_environment().with_flags(db_url=db_url, handlers=(HANDLERS,)))
        if workers:
            self.engine.start(workers)
        self.processes = [subprocess.Popen(
            [sys.executable, "-m", "engine", "worker", "--db", db_url, "--handlers", HANDLERS,
             "--workers", "1"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(processes)]

    def supports(self, wid):
        if self.only is not None and wid not in self.only:
            return "skipped: same as with the first worker count (runs inside StartExecution)"
        return None

    def prepare(self, workload):
        engine = self.engine
        arn = engine.create_state_machine(name=machine_name(workload.wid),
                                          definition=json.dumps(workload.definition),
                                          role_arn=ROLE)["stateMachineArn"]

        def run_once():
            arns = [engine.start_execution(arn, input=text)["executionArn"] for text in workload.texts]
            deadline = time.monotonic() + REP_TIMEOUT
            if not self.workers and not self.processes:
                engine.run_until_idle()
            problems = []
            for index, execution in enumerate(arns):
                described = engine.describe_execution(execution)
                while described["status"] == "RUNNING" and time.monotonic() < deadline:
                    if self.workers:
                        engine.executor.wait_finished(0.05)
                    elif self.processes:
                        time.sleep(0.01)
                    else:
                        engine.run_until_idle()
                        time.sleep(0.01)
                    described = engine.describe_execution(execution)
                problem = workload.check(index, described["status"], described.get("output"))
                if problem:
                    problems.append(problem)
            return problems
        return run_once

    def parked(self, workload):
        """In a fresh child process: its RSS growth is the parked executions', nothing else's."""
        spec = {"db_url": self.db_url, "workers": self.workers, "executions": workload.executions}
        if self.name.startswith("sqlite"):  # a database of its own, not the other workloads' file
            spec["db_url"] = self.db_url.replace(".db", f"-w7-{uuid.uuid4().hex[:6]}.db")
        done = subprocess.run([sys.executable, __file__, "--w7-child", json.dumps(spec)], cwd=REPO,
                              capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise RuntimeError(f"W7 child failed: {done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def close(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.engine.close()


def w7_child(spec: dict) -> None:
    """``--w7-child``: start the W7 executions in this fresh process and print what it took."""
    workload = Workload("W7", spec["executions"])
    engine = Engine(settings=from_environment().with_flags(db_url=spec["db_url"], handlers=(HANDLERS,)))
    if spec["workers"]:
        engine.start(spec["workers"])
    arn = engine.create_state_machine(name=machine_name("W7"), definition=json.dumps(workload.definition),
                                      role_arn=ROLE)["stateMachineArn"]
    engine.start_execution(arn, input=workload.texts[0])  # warm the code paths (not counted)
    gc.collect()
    before = vm()["VmRSS"]
    reset_peak()
    start = time.perf_counter()
    arns = [engine.start_execution(arn, input=text)["executionArn"] for text in workload.texts]
    elapsed = time.perf_counter() - start
    after = vm()
    problems = []
    for index in range(0, len(arns), max(1, len(arns) // 200)):  # 200 of them, spread out
        problem = workload.check(index, engine.describe_execution(arns[index])["status"], None)
        if problem:
            problems.append(problem)
    engine.close()
    print(json.dumps({"start_rate": len(arns) / elapsed, "rss_before": before, "rss_after": after["VmRSS"],
                      "peak": after["VmHWM"], "problems": problems}))


class HttpMode(Mode):
    name = "http"

    def __init__(self, tmp: Path, clients: int):
        self.tmp, self.clients = tmp, clients
        self.server = self._serve()
        self.pid = self.server[0].pid
        self._local = threading.local()
        self._pool = futures.ThreadPoolExecutor(clients)

    def _serve(self) -> tuple[subprocess.Popen, str]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        db = f"sqlite:///{self.tmp / f'http-{port}.db'}"
        log = self.tmp / f"http-{port}.log"  # not a pipe: serve logs every execution's end
        with open(log, "wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "engine", "serve", "--port", str(port), "--db", db, "--handlers", HANDLERS],
                cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.time() + 30
        while time.time() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"stepstone serve exited: {log.read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return process, f"http://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.1)
        process.kill()
        raise RuntimeError("stepstone serve did not listen within 30 s")

    @staticmethod
    def _stop(process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _client(self, endpoint: str):
        cache = self._local.__dict__.setdefault("clients", {})
        if endpoint not in cache:
            import boto3
            from botocore.config import Config
            cache[endpoint] = boto3.client(
                "stepfunctions", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                aws_secret_access_key="test",
                config=Config(inject_host_prefix=False, retries={"max_attempts": 1},
                              max_pool_connections=max(10, self.clients)))
        return cache[endpoint]

    def _create(self, endpoint: str, workload: Workload) -> str:
        return self._client(endpoint).create_state_machine(
            name=machine_name(workload.wid), definition=json.dumps(workload.definition),
            roleArn=ROLE)["stateMachineArn"]

    def _start_all(self, endpoint: str, arn: str, workload: Workload) -> list[str]:
        start = lambda text: self._client(endpoint).start_execution(stateMachineArn=arn, input=text)["executionArn"]
        return list(self._pool.map(start, workload.texts))

    def prepare(self, workload):
        endpoint = self.server[1]
        arn = self._create(endpoint, workload)

        def await_one(item):
            index, execution = item
            deadline = time.monotonic() + REP_TIMEOUT
            client = self._client(endpoint)
            described = client.describe_execution(executionArn=execution)
            while described["status"] == "RUNNING" and time.monotonic() < deadline:
                time.sleep(0.005)
                described = client.describe_execution(executionArn=execution)
            return workload.check(index, described["status"], described.get("output"))

        def run_once():
            arns = self._start_all(endpoint, arn, workload)
            return [p for p in self._pool.map(await_one, enumerate(arns)) if p]
        return run_once

    def parked(self, workload):
        """On a fresh server: its RSS growth is the parked executions', nothing else's."""
        process, endpoint = self._serve()
        try:
            arn = self._create(endpoint, workload)
            self._client(endpoint).start_execution(stateMachineArn=arn, input=workload.texts[0])  # warm-up
            before = vm(process.pid)["VmRSS"]
            reset_peak(process.pid)
            start = time.perf_counter()
            arns = self._start_all(endpoint, arn, workload)
            elapsed = time.perf_counter() - start
            after = vm(process.pid)
            client = self._client(endpoint)
            problems = [p for index in range(0, len(arns), max(1, len(arns) // 200))
                        if (p := workload.check(index, client.describe_execution(
                            executionArn=arns[index])["status"], None))]
            return {"start_rate": len(arns) / elapsed, "rss_before": before, "rss_after": after["VmRSS"],
                    "peak": after["VmHWM"], "problems": problems}
        finally:
            self._stop(process)

    def close(self):
        self._pool.shutdown()
        self._stop(self.server[0])


# ---- PostgreSQL -----------------------------------------------------------------------------
def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class PgSchemas:
    """Fresh schemas on the server (tests/conftest.py's search_path trick), dropped at the end."""

    def __init__(self, url: str):
        import psycopg
        self.psycopg, self.url, self.schemas = psycopg, url, []
        psycopg.connect(_libpq(url), connect_timeout=3).close()

    def fresh(self) -> str:
        schema = f"stepstone_bench_{uuid.uuid4().hex[:12]}"
        with self.psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}options=-csearch_path%3D{schema}"

    def drop(self) -> None:
        with self.psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# ---- measuring --------------------------------------------------------------------------------
def measure_one(mode: Mode, workload: Workload, args) -> dict:
    row = {"mode": mode.name, "workload": workload.wid, "executions": workload.executions,
           "transitions": workload.transitions, "scaled": workload.scaled}
    if workload.wid == "W7":
        parked = mode.parked(workload)
        row.update(executions_per_s=parked["start_rate"],
                   transitions_per_s=parked["start_rate"] * workload.entry["transitions_per_execution"],
                   peak_rss_mb=parked["peak"], rss_growth_mb=parked["rss_after"] - parked["rss_before"],
                   problem_count=len(parked["problems"]), problems=parked["problems"][:20])
        return row
    floor = None
    if workload.wid in FLOOR_WORKLOADS:
        floor = measure(floor_run(), workload.wid, samples=args.samples)
    run_once = mode.prepare(workload)
    gc.collect()
    before = vm(mode.pid)["VmRSS"]
    reset_peak(mode.pid)
    reps_per_s, problems = sample(run_once, args.samples, args.min_seconds)
    memory = vm(mode.pid)
    row.update(transitions_per_s=reps_per_s * workload.transitions,
               executions_per_s=reps_per_s * workload.executions,
               peak_rss_mb=memory["VmHWM"], rss_growth_mb=memory["VmRSS"] - before,
               problem_count=len(problems), problems=problems[:20])
    if floor is not None:
        row.update(floor_per_s=floor, ratio=row["transitions_per_s"] / floor)
    return row


def stepstone_run_times(runs: int = 5) -> dict:
    """Median wall time of ``python -m engine run`` on a three-state definition, and its baselines."""
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import engine'": [sys.executable, "-c", "import engine"],
        f"python -m engine run {THREE_STATES} --input '{{\"n\": 1}}'":
            [sys.executable, "-m", "engine", "run", THREE_STATES, "--input", '{"n": 1}'],
    }
    times, problems = {}, []
    for label, command in commands.items():
        walls = []
        for _ in range(runs):
            start = time.perf_counter()
            done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
            walls.append(time.perf_counter() - start)
            if "engine run" in label and (done.returncode != 0 or json.loads(done.stdout or "null") != {"n": 1, "ok": True}):
                problems.append(f"stepstone run: exit {done.returncode}, stdout {done.stdout!r} {done.stderr[-300:]!r}")
        times[label] = statistics.median(walls)
    return {"median_seconds": times, "problems": problems}


# ---- output ---------------------------------------------------------------------------------
def fmt(value, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}"
    return f"{value:,.0f}"


def table(rows: list[dict]) -> str:
    head = ["workload", "mode", "executions", "transitions/s", "executions/s", "floor t/s", "engine/floor",
            "peak RSS MB", "RSS growth MB", "check"]
    lines = []
    for row in rows:
        if "skipped" in row:
            lines.append([row["workload"], row["mode"], "", "", "", "", "", "", "", row["skipped"]])
            continue
        check = "ok" if not row["problem_count"] else f"!! {row['problem_count']} MISMATCH(ES) !!"
        lines.append([row["workload"], row["mode"], fmt(row["executions"]) + ("*" if row["scaled"] else ""),
                      fmt(row["transitions_per_s"]), fmt(row["executions_per_s"]), fmt(row.get("floor_per_s")),
                      f"{row['ratio']:.4f}" if "ratio" in row else "-", fmt(row["peak_rss_mb"], 1),
                      fmt(row["rss_growth_mb"], 1), check])
    widths = [max(len(str(x)) for x in column) for column in zip(head, *lines)]
    render = lambda cells: "| " + " | ".join(str(c).rjust(w) if i in range(2, 9) else str(c).ljust(w)
                                             for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    rule = "|" + "|".join(("-" * (w + 1) + ":") if i in range(2, 9) else "-" * (w + 2)
                          for i, w in enumerate(widths)) + "|"
    return "\n".join([render(head), rule] + [render(cells) for cells in lines])


def targets(rows: list[dict], run: dict | None) -> list[str]:
    """The issue's targets against this run's figures."""
    out = []
    find = lambda mode, wid: next((r for r in rows if r["mode"] == mode and r["workload"] == wid
                                   and "skipped" not in r), None)
    verdict = lambda ok: "met" if ok else "MISSED"
    for wid in ["W1", "W2", "W3", "W4", "W5"]:
        row = find("memory", wid)
        if row and "ratio" in row:
            out.append(f"memory {wid} >= 0.10x floor: {row['ratio']:.4f}x -> {verdict(row['ratio'] >= 0.10)}")
    for wid in ["W1", "W2", "W3", "W4"]:
        row = find("sqlite", wid)
        if row:
            out.append(f"sqlite {wid} >= 20,000 transitions/s: {fmt(row['transitions_per_s'])} -> "
                       f"{verdict(row['transitions_per_s'] >= 20000)}")
    row = find("sqlite", "W5")
    if row:
        out.append(f"sqlite W5 >= 1,500 executions/s: {fmt(row['executions_per_s'])} -> "
                   f"{verdict(row['executions_per_s'] >= 1500)}")
    row = find("sqlite", "W6")
    if row:
        out.append(f"sqlite W6 >= 5,000 task transitions/s: {fmt(row['transitions_per_s'])} -> "
                   f"{verdict(row['transitions_per_s'] >= 5000)}")
    for row in rows:
        if row["workload"] == "W7" and "skipped" not in row:
            ok = row["executions_per_s"] >= 2000 and row["rss_growth_mb"] < 50
            out.append(f"{row['mode']} W7 parked at >= 2,000/s with < 50 MB RSS growth: "
                       f"{fmt(row['executions_per_s'])}/s, {row['rss_growth_mb']:+.1f} MB"
                       f"{' (' + fmt(row['executions']) + ' executions, scaled down)' if row['scaled'] else ''}"
                       f" -> {verdict(ok)}")
    one, two = find("postgres/1w", "W6"), find("postgres/2w", "W6")
    if one and two:
        speedup = two["transitions_per_s"] / one["transitions_per_s"]
        out.append(f"postgres W6 2 workers >= 1.5x one: {speedup:.2f}x -> {verdict(speedup >= 1.5)}")
    if one:  # the scaling benchmark: every worker count as a ratio to one worker
        ratios = [f"{row['mode'].split('/')[1]} {row['transitions_per_s'] / one['transitions_per_s']:.2f}x"
                  for row in rows if row["mode"].startswith("postgres/") and row["workload"] == "W6"
                  and "skipped" not in row]
        out.append(f"postgres W6 scaling (worker processes, ratio to one): {', '.join(ratios)}")
    if run:
        label = next(k for k in run["median_seconds"] if "engine run" in k)
        seconds = run["median_seconds"][label]
        out.append(f"stepstone run (3 states) < 0.5 s: {seconds:.3f} s -> {verdict(seconds < 0.5)}")
    return out


def revision() -> str:
    """The commit measured, and whether engine/ had uncommitted changes when the run began."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "engine"], cwd=REPO, capture_output=True,
                               text=True).stdout.strip()
    except OSError:
        commit, dirty = "?", ""
    return commit + (" + uncommitted changes under engine/" if dirty else "")


def header(args, modes_text: list[str], began: str, commit: str) -> list[str]:
    lines = [f"Stepstone benchmark, {began}, "
             f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, commit {commit}",
             "Machine: shared, noisy: compare ratios to the floor in the same run, not absolute figures.",
             f"Samples: median of {args.samples} (after one warm-up), each >= {args.min_seconds} s; "
             f"floor measured right before each W1-W5 measurement."]
    if args.quick:
        lines.append("QUICK run: fewer samples and executions scaled down (marked *): "
                     + ", ".join(f"{k} {v:,}" for k, v in QUICK_EXECUTIONS.items()) + ".")
    lines.append("Modes:")
    lines.extend(f"  {text}" for text in modes_text)
    return lines


MODE_TEXT = {
    "memory": "memory: Engine.in_memory() + EXPRESS + StartSyncExecution, the in-process runner "
              "(interpreter.start/advance, history events built, nothing persisted); W7 n/a",
    "sqlite": "sqlite{w}: STANDARD on {db}, StartExecution x N, then {driver}, "
              "then DescribeExecution",
    "postgres": "postgres/Nw: STANDARD on PostgreSQL (fresh schema), N `stepstone worker` processes (one executor "
                "thread each), StartExecution x N from the bench, wait, DescribeExecution; W1-W5, W7 with the "
                "first worker count only",
    "http": "http: boto3 ({clients} client threads) -> `python -m engine serve` on a SQLite file; "
            "StartExecution, DescribeExecution until ended; RSS is the server's",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", default="memory,sqlite,postgres,http")
    parser.add_argument("--workloads", default=",".join(ALL_WORKLOADS))
    parser.add_argument("--samples", type=int, default=None, help="samples per figure (default 5, --quick 2)")
    parser.add_argument("--min-seconds", type=float, default=0.5, help="shortest sample")
    parser.add_argument("--quick", action="store_true", help="2 samples, W5/W6/W7 scaled down")
    parser.add_argument("--json", default=str(REPO / "bench" / "results.json"), help="where to write the results")
    parser.add_argument("--sqlite-workers", type=int, default=0, help="0: run_until_idle in this thread")
    parser.add_argument("--sqlite-url", default=None,
                        help="database of the sqlite mode (default: a file in a temporary folder; sqlite:// is "
                             "in-memory, as bench/engine_vs_floor.py measures)")
    parser.add_argument("--pg-url", default=os.environ.get("STEPSTONE_TEST_POSTGRES_URL", PG_DEFAULT_URL))
    parser.add_argument("--pg-workers", default="1,2,4")
    parser.add_argument("--pg-all-workers", action="store_true", help="W1-W5, W7 with every worker count too")
    parser.add_argument("--http-clients", type=int, default=4)
    parser.add_argument("--no-run-time", action="store_true", help="skip timing `stepstone run`")
    parser.add_argument("--w7-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.w7_child:
        w7_child(json.loads(args.w7_child))
        return 0
    args.samples = args.samples or (2 if args.quick else 5)
    wanted = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    workloads = [Workload(w, QUICK_EXECUTIONS.get(w) if args.quick else None) for w in wanted]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    began, commit = datetime.datetime.now().isoformat(timespec="seconds"), revision()
    tmp = Path(tempfile.mkdtemp(prefix="stepstone-bench-"))
    rows: list[dict] = []
    notes: list[str] = []
    modes_text = []
    pg: PgSchemas | None = None

    def run_mode(factory, label: str):
        mode = factory()
        try:
            for workload in workloads:
                why = mode.supports(workload.wid)
                if why and mode.name.startswith("postgres/"):
                    continue  # the header says which workloads run with the first worker count only
                if why:
                    rows.append({"mode": mode.name, "workload": workload.wid, "skipped": why})
                    continue
                print(f"  {mode.name} {workload.wid} ...", file=sys.stderr, flush=True)
                rows.append(measure_one(mode, workload, args))
        finally:
            mode.close()

    try:
        for name in modes:
            if name == "memory":
                modes_text.append(MODE_TEXT["memory"])
                run_mode(MemoryMode, name)
            elif name == "sqlite":
                w = args.sqlite_workers
                modes_text.append(MODE_TEXT["sqlite"].format(
                    db=args.sqlite_url or "a SQLite file (synchronous=FULL)", w=f"/{w}w" if w else "", driver=f"Engine.start(workers={w}) + wait" if w
                    else "run_until_idle() in this thread"))
                url = args.sqlite_url or f"sqlite:///{tmp / 'bench.db'}"
                run_mode(lambda: DurableMode(f"sqlite/{w}w" if w else "sqlite", url, w), name)
            elif name == "postgres":
                modes_text.append(MODE_TEXT["postgres"])
                try:
                    pg = PgSchemas(args.pg_url)
                except Exception as error:  # noqa: BLE001 - no server: skip with a note
                    notes.append(f"postgres skipped: {args.pg_url} unreachable ({str(error).strip()[:200]})")
                    continue
                counts = [int(c) for c in args.pg_workers.split(",")]
                for index, count in enumerate(counts):
                    only = None if index == 0 or args.pg_all_workers else {"W6"}
                    url = pg.fresh()
                    run_mode(lambda: DurableMode(f"postgres/{count}w", url, 0, only, processes=count), name)
            elif name == "http":
                modes_text.append(MODE_TEXT["http"].format(clients=args.http_clients))
                run_mode(lambda: HttpMode(tmp, args.http_clients), name)
            else:
                parser.error(f"unknown mode {name!r}")
        run = None
        if not args.no_run_time:
            print("  stepstone run ...", file=sys.stderr, flush=True)
            run = stepstone_run_times()
    finally:
        if pg is not None:
            pg.drop()
        shutil.rmtree(tmp, ignore_errors=True)

    lines = header(args, modes_text, began, commit)
    print("\n".join(lines))
    print()
    print(table(rows))
    if run:
        print()
        print("`stepstone run` wall time, median of 5:")
        for label, seconds in run["median_seconds"].items():
            print(f"  {label}: {seconds:.3f} s")
    print()
    print("Targets (issue \"Performance\"):")
    for line in targets(rows, run):
        print(f"  {line}")
    problems = [f"{r['mode']} {r['workload']}: {p}" for r in rows for p in r.get("problems", [])]
    problems += (run or {}).get("problems", [])
    for note in notes:
        print(f"NOTE: {note}")
    if problems:
        print()
        print(f"!!!!!! {len(problems)} WRONG RESULTS (first 10) !!!!!!")
        for problem in problems[:10]:
            print(f"  !! {problem}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"header": lines, "rows": rows, "stepstone_run": run, "targets": targets(rows, run), "notes": notes},
            indent=1) + "\n")
        print(f"\n(results written to {args.json})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
