"""W1-W5: Stepstone's durable engine against the floor, as ratios (engine / floor), same run.

    python bench/engine_vs_floor.py [--db sqlite://] [W1 W2 ...]

Each execution goes through the facade as a user's would: StartExecution (interpreter, one
commit with history), then DescribeExecution for the output. The floor and ``measure`` come from
``../shared/bench/floor.py``.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

SHARED_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
sys.path.insert(0, str(SHARED_BENCH))
from floor import floor_run, measure  # noqa: E402

from engine import Engine  # noqa: E402
from engine.settings import from_environment  # noqa: E402


_names = itertools.count()


def engine_run(engine: Engine):
    machines: dict[int, str] = {}

    def run(definition: dict, value):
        arn = machines.get(id(definition))
        if arn is None:
            arn = engine.create_state_machine(name=f"bench-{next(_names)}", definition=json.dumps(definition),
                                              role_arn="arn:aws:iam::123456789012:role/bench")["stateMachineArn"]
            machines[id(definition)] = arn
        execution = engine.start_execution(arn, input=json.dumps(value))["executionArn"]
        described = engine.describe_execution(execution)
        if described["status"] != "SUCCEEDED":
            described = engine.wait(execution, timeout=60)
        return json.loads(described["output"])

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workloads", nargs="*", default=["W1", "W2", "W3", "W4", "W5"])
    parser.add_argument("--db", default="sqlite://")
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    engine = Engine(settings=from_environment().with_flags(db_url=args.db))
    try:
        for wid in args.workloads:
            floor = measure(floor_run(), wid, samples=args.samples)
            ours = measure(engine_run(engine), wid, samples=args.samples)
            print(f"{wid}: engine {ours:,.0f} transitions/s, floor {floor:,.0f}, ratio {ours / floor:.4f}")
    finally:
        engine.close()


if __name__ == "__main__":
    main()
