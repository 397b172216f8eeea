"""Event matching: 10,000 events against 1,000 rules, RuleIndex against the naive loop, same run.

    python bench/event_matching.py [--rules 1000] [--events 10000] [--runs 5] [--seed 7]

The rules are a realistic mix: every rule names an exact ``source`` (one or two of 40), most an
exact ``detail-type`` (of 25); the ``detail`` conditions mix exact values, ``prefix``, ``numeric``
ranges and ``anything-but``; a few rules use ``$or``, ``exists`` or have no ``source`` at all. The
events are drawn from the same vocabulary. Two naive matchers loop over the compiled patterns:
``Pattern.matches`` per rule (what a caller without the index does), and the same loop over an event
flattened once (the strongest loop). All answers must be identical (checked); the figures are
medians of ``--runs`` runs, events per second on one core, and the ratios.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time

from engine.eventbus.flatten import flatten
from engine.eventbus.index import RuleIndex
from engine.eventbus.patterns import compile_pattern

SOURCES = [f"com.example.service{n}" for n in range(40)]
DETAIL_TYPES = [f"Order{verb}" for verb in ("Placed", "Paid", "Shipped", "Cancelled", "Refunded")] + \
    [f"Type{n}" for n in range(20)]
STATES = ["pending", "running", "stopped", "failed", "initializing", "done"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1"]
CUSTOMERS = [f"cust-{tier}-{n}" for tier in ("gold", "silver", "bronze") for n in range(30)]


def make_rule(rng: random.Random) -> dict:
    pattern: dict = {}
    roll = rng.random()
    if roll < 0.97:
        pattern["source"] = rng.sample(SOURCES, rng.choice((1, 1, 1, 2)))
    if rng.random() < 0.8:
        pattern["detail-type"] = [rng.choice(DETAIL_TYPES)]
    detail: dict = {}
    for _ in range(rng.choice((1, 1, 2, 3))):
        kind = rng.random()
        if kind < 0.3:
            detail["state"] = rng.sample(STATES, 2)
        elif kind < 0.5:
            detail["customer"] = [{"prefix": f"cust-{rng.choice(('gold', 'silver', 'bronze'))}"}]
        elif kind < 0.75:
            low = rng.randrange(0, 900)
            detail["amount"] = [{"numeric": [">=", low, "<", low + rng.randrange(10, 300)]}]
        elif kind < 0.9:
            detail["region"] = [{"anything-but": rng.sample(REGIONS, 2)}]
        else:
            detail["flags"] = {"priority": [{"exists": rng.random() < 0.5}]}
    if rng.random() < 0.05:
        detail["$or"] = [{"state": [rng.choice(STATES)]}, {"amount": [{"numeric": ["<", 50]}]}]
    if detail:
        pattern["detail"] = detail
    return pattern


def make_event(rng: random.Random, n: int) -> dict:
    detail: dict = {"state": rng.choice(STATES), "customer": rng.choice(CUSTOMERS),
                    "amount": round(rng.uniform(0, 1000), 2), "region": rng.choice(REGIONS),
                    "items": [{"sku": f"sku-{rng.randrange(100)}", "qty": rng.randrange(1, 5)}
                              for _ in range(rng.randrange(0, 4))]}
    if rng.random() < 0.3:
        detail["flags"] = {"priority": rng.choice(("high", "low"))}
    return {"version": "0", "id": f"evt-{n}", "source": rng.choice(SOURCES),
            "detail-type": rng.choice(DETAIL_TYPES), "account": "123456789012",
            "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [], "detail": detail}


def run(rules: int, events: int, runs: int, seed: int) -> dict:
    rng = random.Random(seed)
    patterns = {f"rule-{n}": compile_pattern(make_rule(rng)) for n in range(rules)}
    sample = [make_event(rng, n) for n in range(events)]
    index = RuleIndex()
    for key, pattern in patterns.items():
        index.add(key, pattern)
    compiled = list(patterns.items())

    def naive(event: dict) -> set:
        return {key for key, pattern in compiled if pattern.matches(event)}

    def flattened_once(event: dict) -> set:
        flat = flatten(event)
        return {key for key, pattern in compiled if pattern.matches_flat(flat)}

    indexed_rates, naive_rates, once_rates, matches = [], [], [], 0
    for _ in range(runs):
        started = time.perf_counter()
        indexed = [index.match(event) for event in sample]
        indexed_rates.append(events / (time.perf_counter() - started))
        started = time.perf_counter()
        expected = [naive(event) for event in sample]
        naive_rates.append(events / (time.perf_counter() - started))
        started = time.perf_counter()
        once = [flattened_once(event) for event in sample]
        once_rates.append(events / (time.perf_counter() - started))
        if not indexed == expected == once:
            raise SystemExit("RuleIndex and the naive matchers disagree")
        matches = sum(len(found) for found in indexed)
    indexed_rate, naive_rate = statistics.median(indexed_rates), statistics.median(naive_rates)
    once_rate = statistics.median(once_rates)
    return {"rules": rules, "events": events, "runs": runs, "matches_per_event": matches / events,
            "index_events_per_s": indexed_rate, "naive_events_per_s": naive_rate,
            "flattened_once_events_per_s": once_rate, "ratio": indexed_rate / naive_rate,
            "ratio_flattened_once": indexed_rate / once_rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = run(args.rules, args.events, args.runs, args.seed)
    print(f"{result['rules']} rules x {result['events']} events, median of {result['runs']} runs, "
          f"{result['matches_per_event']:.2f} matching rules per event")
    print(f"  RuleIndex : {result['index_events_per_s']:>10,.0f} events/s")
    print(f"  naive loop: {result['naive_events_per_s']:>10,.0f} events/s  (Pattern.matches per rule)"
          f"  ratio {result['ratio']:.1f}x")
    print(f"  naive loop: {result['flattened_once_events_per_s']:>10,.0f} events/s  (event flattened once)"
          f"  ratio {result['ratio_flattened_once']:.1f}x")


if __name__ == "__main__":
    main()
