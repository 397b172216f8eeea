"""STAND-IN (branch ``bus``): a linear rule index until the real one lands (take theirs).

``RuleIndex.add(rule_key, pattern)``, ``remove(rule_key)``, ``match(event) -> set``.
"""
from __future__ import annotations

from typing import Any, Hashable

from engine.eventbus.patterns import Pattern


class RuleIndex:
    def __init__(self) -> None:
        self._rules: dict[Hashable, Pattern] = {}

    def add(self, rule_key: Hashable, pattern: Pattern) -> None:
        self._rules[rule_key] = pattern

    def remove(self, rule_key: Hashable) -> None:
        self._rules.pop(rule_key, None)

    def match(self, event: Any) -> set:
        return {key for key, pattern in self._rules.items() if pattern.matches(event)}
