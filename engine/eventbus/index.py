"""Many rules, one event: which rules match, without checking every pattern (event-ruler's idea).

The event is flattened once into ``path -> values``. Each branch of each pattern (``$or`` gives
several) is filed under the cheapest key that any matching event must hit:

* the fields whose matchers are all exact values, in path order, spell a walk through a trie of
  ``path -> value key -> node`` (event-ruler's name states); the branch sits at the end of it and
  is a candidate when the event's values walk there (a field with several values forks the walk;
  past ``MAX_FORKS`` walks the remaining fields are left to the full check);
* otherwise a field whose matchers are all (case-sensitive) prefixes is filed under those
  prefixes, looked up by the event value's prefixes of the registered lengths;
* otherwise one field that cannot match by absence is filed under its path (present -> candidate);
* branches made only of ``exists: false``-style fields are checked for every event.

Candidates are then checked in full (:func:`engine.eventbus.patterns.branch_matches`), so the
answer is the one of checking every pattern, at the cost of the candidates only. Pure, no I/O.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Hashable

from engine.eventbus.flatten import flatten, wanted_paths
from engine.eventbus.patterns import Branch, Pattern, branch_matches, compile_pattern

__all__ = ["RuleIndex"]


MAX_FORKS = 64  # walks one branch may add to the trie (a product of exact-value counts)


class _Node:
    __slots__ = ("edges", "branches")

    def __init__(self) -> None:
        self.edges: dict[str, dict[tuple, _Node]] = {}
        self.branches: list[int] = []


class _Entry:
    __slots__ = ("rule", "branch", "filed")

    def __init__(self, rule: Hashable, branch: Branch):
        self.rule, self.branch = rule, branch
        self.filed: list[tuple] = []  # where this branch is filed, to remove it again


class RuleIndex:
    """Compiled patterns under rule keys; ``match(event)`` returns the keys of the matching rules."""

    def __init__(self) -> None:
        self._patterns: dict[Hashable, Pattern] = {}
        self._entries: dict[int, _Entry] = {}
        self._by_rule: dict[Hashable, list[int]] = {}
        self._root = _Node()
        self._prefix: dict[str, dict[str, list[int]]] = {}
        self._prefix_lengths: dict[str, Counter] = {}
        self._presence: dict[str, list[int]] = {}
        self._always: list[int] = []
        self._wanted: Counter = Counter()
        self._next_id = 0

    def __len__(self) -> int:
        return len(self._patterns)

    def __contains__(self, rule: Hashable) -> bool:
        return rule in self._patterns

    def add(self, rule: Hashable, pattern: Pattern | str | dict) -> Pattern:
        """File ``pattern`` (compiled if needed) under ``rule``, replacing what was there."""
        if not isinstance(pattern, Pattern):
            pattern = compile_pattern(pattern)
        if rule in self._patterns:
            self.remove(rule)
        self._patterns[rule] = pattern
        self._wanted.update(wanted_paths(pattern.paths))
        ids = self._by_rule[rule] = []
        for branch in pattern.branches:
            self._next_id += 1
            ids.append(self._next_id)
            self._entries[self._next_id] = entry = _Entry(rule, branch)
            self._file(self._next_id, entry)
        return pattern

    def remove(self, rule: Hashable) -> None:
        """Forget ``rule``; unknown keys are ignored."""
        pattern = self._patterns.pop(rule, None)
        if pattern is None:
            return
        self._wanted.subtract(wanted_paths(pattern.paths))
        for path in [path for path, count in self._wanted.items() if count <= 0]:
            del self._wanted[path]
        for branch_id in self._by_rule.pop(rule):
            entry = self._entries.pop(branch_id)
            for place in entry.filed:
                self._unfile(branch_id, place)

    def match(self, event: dict) -> set:
        """The keys of every rule whose pattern matches ``event`` (a parsed JSON object)."""
        flat = flatten(event, self._wanted)
        candidates: set[int] = set(self._always)
        stack = [self._root]
        while stack:
            node = stack.pop()
            if node.branches:
                candidates.update(node.branches)
            for path, children in node.edges.items():
                values = flat.get(path)
                if values is None:
                    continue
                if len(values) == 1:
                    child = children.get(values[0][1])
                    if child is not None:
                        stack.append(child)
                else:
                    for key in {key for _, key, _ in values}:
                        child = children.get(key)
                        if child is not None:
                            stack.append(child)
        prefix, presence = self._prefix, self._presence
        for path, values in flat.items():
            prefixes = prefix.get(path)
            if prefixes is not None:
                lengths = self._prefix_lengths[path]
                for value, _, _ in values:
                    if type(value) is str:
                        for length in lengths:
                            found = prefixes.get(value[:length]) if length <= len(value) else None
                            if found:
                                candidates.update(found)
            present = presence.get(path)
            if present:
                candidates.update(present)
        entries = self._entries
        matched: set = set()
        for branch_id in candidates:
            entry = entries[branch_id]
            if entry.rule not in matched and branch_matches(entry.branch, flat):
                matched.add(entry.rule)
        return matched

    def pattern(self, rule: Hashable) -> Pattern:
        return self._patterns[rule]

    # -- filing
    def _file(self, branch_id: int, entry: _Entry) -> None:
        exact_fields = [field for field in entry.branch
                        if field.matchers and all(m.kind == "exact" for m in field.matchers)]
        if exact_fields:
            walks = [[(self._root, None, None)]]
            for field in exact_fields:
                if len(walks) * len(field.exact) > MAX_FORKS:
                    break
                walks = [walk + [(walk[-1][0].edges.setdefault(field.path, {}).setdefault(key, _Node()),
                                  field.path, key)]
                         for walk in walks for key in field.exact]
            for walk in walks:
                walk[-1][0].branches.append(branch_id)
                entry.filed.append(("exact", walk, None, branch_id))
            return
        for field in entry.branch:
            if all(m.kind == "prefix" for m in field.matchers):
                prefixes = self._prefix.setdefault(field.path, {})
                lengths = self._prefix_lengths.setdefault(field.path, Counter())
                for text in {m.arg for m in field.matchers}:
                    prefixes.setdefault(text, []).append(branch_id)
                    lengths[len(text)] += 1
                    entry.filed.append(("prefix", field.path, text, branch_id))
                return
        for field in entry.branch:
            if not field.absent_ok:
                self._presence.setdefault(field.path, []).append(branch_id)
                entry.filed.append(("presence", field.path, None, branch_id))
                return
        self._always.append(branch_id)
        entry.filed.append(("always", None, None, branch_id))

    def _unfile(self, branch_id: int, place: tuple) -> None:
        kind, path, key, item = place
        if kind == "exact":
            walk = path
            walk[-1][0].branches.remove(item)
            for (parent, _, _), (node, step, value) in zip(reversed(walk[:-1]), reversed(walk[1:])):
                if node.branches or node.edges:
                    break
                children = parent.edges[step]
                del children[value]
                if not children:
                    del parent.edges[step]
        elif kind == "prefix":
            _discard(self._prefix, path, key, item)
            lengths = self._prefix_lengths[path]
            lengths[len(key)] -= 1
            if lengths[len(key)] <= 0:
                del lengths[len(key)]
            if not lengths:
                del self._prefix_lengths[path]
        elif kind == "presence":
            bucket = self._presence[path]
            bucket.remove(item)
            if not bucket:
                del self._presence[path]
        else:
            self._always.remove(item)


def _discard(table: dict[str, dict[Any, list]], path: str, key: Any, item: Any) -> None:
    bucket = table[path]
    bucket[key].remove(item)
    if not bucket[key]:
        del bucket[key]
    if not bucket:
        del table[path]
