"""EventBridge event patterns: compile (validate exactly as AWS does) and match. Pure, no I/O.

AWS compiles a pattern with event-ruler's ``JsonRuleCompiler``, which walks the JSON text with a
streaming Jackson parser and stops at the first problem; its messages carry Jackson's position
(``\\n at [Source: (String)"..."; line: 1, column: N]``). :class:`Reader` reads the text the way
Jackson does (a string value is only consumed when its text is asked for, a field name's value is
read ahead) so that the positions, and which of two problems is reported, come out as AWS's.

A compiled :class:`Pattern` is a list of *branches* (``$or`` multiplies them out); a branch is a
tuple of :class:`Field` (a dotted path and the matchers OR-ed on it); a branch matches when every
field matches, with values that can come from the same array elements (see ``flatten.py``).
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable

from engine.errors import InvalidEventPattern, ValidationException
from engine.eventbus.flatten import Flat, comparable, flatten, ip_address, value_key, wanted_paths
from engine.eventbus.pattern_reader import (END_ARRAY, END_OBJECT, FALSE, FIELD_NAME, FLOAT, INT,
                                            MAX_NESTING, NULL, NUMERIC, START_ARRAY, START_OBJECT,
                                            STRING, TRUE, Barf, IllegalArgument, Reader)

__all__ = ["Field", "Pattern", "check_event", "compile_pattern", "InvalidEventPattern"]

REASON = "Event pattern is not valid. Reason: "
EVENT_NOT_VALID = "Parameter Event is not valid."
EVENT_REQUIRED_FIELDS = ("id", "account", "source", "time", "region", "detail-type")
WILDCARD_COMPLEXITY_LIMIT = 10  # a rule reaching this many live wildcard states is too complex

_RESERVED_IN_OR = frozenset([
    "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard",
    "numeric", "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case",
    "date-after", "date-on-or-after", "date-before", "date-on-or-before", "in-date-range",
    "ip-address-in-range", "ip-address-not-in-range"])

# ---------------------------------------------------------------------------------------------
# Matchers
# ---------------------------------------------------------------------------------------------

class Matcher:
    """One entry of a field's value list. ``kind`` drives indexing; ``test`` decides a value."""

    __slots__ = ("kind", "arg", "test")

    def __init__(self, kind: str, arg: Any, test: Callable[[Any], bool] | None = None):
        self.kind, self.arg, self.test = kind, arg, test

    def __repr__(self) -> str:
        return f"{self.kind}({self.arg!r})"


def _exact(value: Any) -> Matcher:
    return Matcher("exact", value_key(value))


def _exact_number(text: str) -> Matcher:
    number = float(text)
    key = comparable(number)
    if key is not None:
        return Matcher("exact", ("n", key))
    literal = int(text) if re.fullmatch(r"-?[0-9]+", text) else number
    return Matcher("exact", ("N", literal))


def _is_string(value: Any) -> bool:
    return type(value) is str


def _prefix(text: str, ignore_case: bool = False) -> Matcher:
    if ignore_case:
        lowered = text.lower()
        return Matcher("prefix-ic", lowered, lambda v: type(v) is str and v.lower().startswith(lowered))
    return Matcher("prefix", text, lambda v: type(v) is str and v.startswith(text))


def _suffix(text: str, ignore_case: bool = False) -> Matcher:
    if ignore_case:
        lowered = text.lower()
        return Matcher("suffix-ic", lowered, lambda v: type(v) is str and v.lower().endswith(lowered))
    return Matcher("suffix", text, lambda v: type(v) is str and v.endswith(text))


def _equals_ignore_case(text: str) -> Matcher:
    lowered = text.lower()
    return Matcher("equals-ignore-case", lowered, lambda v: type(v) is str and v.lower() == lowered)


def _numeric_key(value: Any) -> int | None:
    if type(value) is int or type(value) is float:
        return comparable(value)
    return None


def _range(bottom: int | None, open_bottom: bool, top: int | None, open_top: bool) -> Matcher:
    def test(value: Any) -> bool:
        key = _numeric_key(value)
        if key is None:
            return False
        if bottom is not None and (key <= bottom if open_bottom else key < bottom):
            return False
        return top is None or (key < top if open_top else key <= top)
    return Matcher("numeric", (bottom, open_bottom, top, open_top), test)


def _anything_but(keys: frozenset) -> Matcher:
    def test(value: Any) -> bool:
        if type(value) is str:
            return ("s", value) not in keys
        key = _numeric_key(value)
        return key is None or ("n", key) not in keys
    return Matcher("anything-but", keys, test)


def _anything_but_set(kind: str, values: list[str]) -> Matcher:
    if kind == "equals-ignore-case":
        lowered = frozenset(v.lower() for v in values)
        return Matcher("anything-but-ic", lowered, lambda v: type(v) is not str or v.lower() not in lowered)
    if kind == "prefix":
        prefixes = tuple(values)
        return Matcher("anything-but-prefix", prefixes, lambda v: type(v) is not str or not v.startswith(prefixes))
    if kind == "suffix":
        suffixes = tuple(values)
        return Matcher("anything-but-suffix", suffixes, lambda v: type(v) is not str or not v.endswith(suffixes))
    regexes = [_wildcard_regex(v) for v in values]
    return Matcher("anything-but-wildcard", tuple(values),
                   lambda v: type(v) is not str or not any(r.fullmatch(v) for r in regexes))


def _wildcard(text: str) -> Matcher:
    regex = _wildcard_regex(text)
    return Matcher("wildcard", text, lambda v: type(v) is str and regex.fullmatch(v) is not None)


def _cidr_matcher(version: int, low: int, high: int) -> Matcher:
    def test(value: Any) -> bool:
        if type(value) is not str:
            return False
        address = ip_address(value)
        return address is not None and address[0] == version and low <= address[1] <= high
    return Matcher("cidr", (version, low, high), test)


# ---------------------------------------------------------------------------------------------
# Operands: numbers, wildcards, CIDR blocks
# ---------------------------------------------------------------------------------------------

def _comparable_or_fail(text: str) -> int:
    key = comparable(float(text))
    if key is None:
        raise IllegalArgument("Value must be between -5.0E9 and 5.0E9, inclusive")
    return key


def _wildcard_tokens(text: str) -> list[int]:
    """event-ruler's WildcardParser on the quoted value's UTF-8 bytes; -1 stands for ``*``."""
    data = ('"' + text + '"').encode("utf-8", "surrogatepass")
    tokens, index = [], 0
    while index < len(data):
        byte = data[index]
        if byte == 0x2A:
            if index + 1 < len(data) and data[index + 1] == 0x2A:
                raise IllegalArgument(f"Consecutive wildcard characters at pos {index}")
            tokens.append(-1)
        elif byte == 0x5C:
            if index + 1 < len(data) and data[index + 1] in (0x2A, 0x5C):
                tokens.append(data[index + 1])
                index += 1
            else:
                raise IllegalArgument(f"Invalid escape character at pos {index}")
        else:
            tokens.append(byte)
        index += 1
    return tokens


def _wildcard_regex(text: str) -> re.Pattern:
    pieces, literal = [], []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            literal.append(text[index + 1])
            index += 2
            continue
        if char == "*":
            pieces.append(re.escape("".join(literal)))
            pieces.append(".*")
            literal = []
        else:
            literal.append(char)
        index += 1
    pieces.append(re.escape("".join(literal)))
    return re.compile("".join(pieces), re.DOTALL)


def _java_split_slash(text: str) -> list[str]:
    parts = text.split("/")
    if len(parts) > 1:
        while parts and parts[-1] == "":
            parts.pop()
    return parts


def _cidr(text: str) -> Matcher:
    """event-ruler's CIDR.cidr: the range runs from the address as written to its last host."""
    parts = _java_split_slash(text)
    if len(parts) != 2:
        raise IllegalArgument("Malformed CIDR, one '/' required")
    if not re.fullmatch(r"[+-]?[0-9]+", parts[1]) or not -2**31 <= int(parts[1]) < 2**31:
        raise IllegalArgument("Malformed CIDR, mask bits must be an integer")
    bits = int(parts[1])
    if bits < 0:
        raise IllegalArgument("Malformed CIDR, mask bits must not be negative")
    looks_like_ip = re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", parts[0]) or \
        re.fullmatch(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*", parts[0])
    if not looks_like_ip:
        raise IllegalArgument(f"Nonstandard IP address: {parts[0]}")
    address = ip_address(parts[0])
    if address is None:
        raise IllegalArgument(f"Invalid IP address: {parts[0]}")
    version, low = address
    if version == 4 and bits > 31:
        raise IllegalArgument("IPv4 mask bits must be < 32")
    if version == 6 and bits > 127:
        raise IllegalArgument("IPv6 mask bits must be < 128")
    width = 32 if version == 4 else 128
    return _cidr_matcher(version, low, low | ((1 << (width - bits)) - 1))


# ---------------------------------------------------------------------------------------------
# The compiler: event-ruler's JsonRuleCompiler over the reader
# ---------------------------------------------------------------------------------------------

Rules = list  # list[dict[str, list[Matcher]]], one dict per $or branch


def _compile_rules(text: str) -> Rules:
    reader = Reader(text)
    rules: Rules = []
    if reader.next_token() != START_OBJECT:
        reader.barf("Filter is not an object")
    _parse_object(rules, [], reader, False)
    return rules


def _parse_object(rules: Rules, path: list[str], reader: Reader, in_or: bool) -> None:
    fields_present = False
    while reader.next_token() != END_OBJECT:
        fields_present = True
        step = reader.name
        if step == "$or":
            _parse_or(rules, path, reader)
            continue
        if in_or and step in _RESERVED_IN_OR:
            reader.barf(f"{step} is Ruler reserved fieldName which cannot be used inside $or.")
        kind = reader.next_token()
        if kind == START_OBJECT:
            _parse_object(rules, path + [step], reader, in_or)
        elif kind == START_ARRAY:
            _write_rules(rules, ".".join(path + [step]), reader)
        else:
            reader.barf(f'"{step}" must be an object or an array')
    if not fields_present:
        reader.barf("Empty objects are not allowed")


def _parse_or(rules: Rules, path: list[str], reader: Reader) -> None:
    current = [dict(rule) for rule in rules]
    rules.clear()
    if reader.next_token() != START_ARRAY:
        reader.barf("It must be an Array followed with $or.")
    count = 0
    while (kind := reader.next_token()) != END_ARRAY:
        count += 1
        if kind != START_OBJECT:
            reader.barf("Only JSON object is allowed in array of $or relationship.")
        branch_rules = [dict(rule) for rule in current] or [{}]
        _parse_object(branch_rules, path, reader, True)
        rules.extend(branch_rules)
    if count < 2:
        reader.barf("There must have at least 2 Objects in $or relationship.")


def _write_rules(rules: Rules, name: str, reader: Reader) -> None:
    values: list[Matcher] = []
    while (kind := reader.next_token()) != END_ARRAY:
        if kind == START_OBJECT:
            values.append(_match_expression(reader))
        elif kind == STRING:
            values.append(_exact(reader.text()))
        elif kind in NUMERIC:
            values.append(_exact_number(reader.text()))
        elif kind in (NULL, TRUE, FALSE):
            values.append(_exact({NULL: None, TRUE: True, FALSE: False}[kind]))
        else:
            reader.barf("Match value must be String, number, true, false, or null")
    if not values:
        reader.barf("Empty arrays are not allowed")
    if not rules:
        rules.append({})
    for rule in rules:
        rule[name] = values


def _end_of_expression(reader: Reader) -> None:
    if reader.next_token() != END_OBJECT:
        reader.barf("Only one key allowed in match expression")


def _string_operand(reader: Reader, problem: str) -> str:
    if reader.next_token() != STRING:
        reader.barf(problem)
    return reader.text()


def _match_expression(reader: Reader) -> Matcher:
    if reader.next_token() != FIELD_NAME:
        reader.barf("Match expression name not found")
    operator = reader.name
    if operator == "exactly":
        matcher = _exact(_string_operand(reader, "exact match pattern must be a string"))
    elif operator in ("prefix", "suffix"):
        kind = reader.next_token()
        if kind == START_OBJECT:
            return _ignore_case_affix(reader, operator)
        if kind != STRING:
            reader.barf(f"{operator} match pattern must be a string")
        matcher = (_prefix if operator == "prefix" else _suffix)(reader.text())
    elif operator == "numeric":
        if reader.next_token() != START_ARRAY:
            reader.barf("Value of numeric must be an array.")
        matcher = _numeric_expression(reader)
        if reader.next_token() != END_OBJECT:
            reader.barf("Too many elements in numeric expression")
        return matcher
    elif operator == "anything-but":
        return _anything_but_expression(reader)
    elif operator == "exists":
        kind = reader.next_token()
        if kind not in (TRUE, FALSE):
            reader.barf("exists match pattern must be either true or false.")
        matcher = Matcher("exists", kind == TRUE)
    elif operator == "cidr":
        matcher = _cidr(_string_operand(reader, "prefix match pattern must be a string"))
    elif operator == "equals-ignore-case":
        matcher = _equals_ignore_case(_string_operand(reader, "equals-ignore-case match pattern must be a string"))
    elif operator == "wildcard":
        text = _string_operand(reader, "wildcard match pattern must be a string")
        try:
            _wildcard_tokens(text)
        except IllegalArgument as problem:
            reader.barf(str(problem))
        matcher = _wildcard(text)
    else:
        reader.barf(f"Unrecognized match type {operator}")
        raise AssertionError("unreachable")
    _end_of_expression(reader)
    return matcher


def _ignore_case_affix(reader: Reader, operator: str) -> Matcher:
    title = operator.capitalize()
    if reader.next_token() != FIELD_NAME:
        reader.barf(f"{title} expression name not found")
    if reader.name != "equals-ignore-case":
        reader.barf(f"Unsupported {operator} pattern: {reader.name}")
    text = _string_operand(reader, "equals-ignore-case match pattern must be a string")
    _end_of_expression(reader)
    _end_of_expression(reader)
    return (_prefix if operator == "prefix" else _suffix)(text, ignore_case=True)


def _numeric_expression(reader: Reader) -> Matcher:
    if reader.next_token() != STRING:
        reader.barf(f"Invalid member in numeric match: {reader.text()}")
    operator = reader.text()
    kind = reader.next_token()
    try:
        if operator in ("=", ">=", ">", "<=", "<"):
            if kind not in NUMERIC:
                reader.barf(f"Value of {'equals' if operator == '=' else operator} must be numeric")
            value = reader.text()
            if operator in (">=", ">"):
                kind = reader.next_token()
                if kind != END_ARRAY:
                    return _complete_range(reader, kind, value, operator == ">")
                return _range(_comparable_or_fail(value), operator == ">", None, False)
            if reader.next_token() != END_ARRAY:
                reader.barf("Too many elements in numeric expression")
            key = _comparable_or_fail(value)
            if operator == "=":
                return Matcher("exact", ("n", key))
            return _range(None, False, key, operator == "<")
        reader.barf(f"Unrecognized numeric range operator: {operator}")
    except IllegalArgument as problem:
        reader.barf(str(problem))
    raise AssertionError("unreachable")


def _complete_range(reader: Reader, kind: str | None, bottom: str, open_bottom: bool) -> Matcher:
    if kind != STRING:
        reader.barf(f"Bad value in numeric range: {reader.text()}")
    operator = reader.text()
    if operator not in ("<", "<="):
        reader.barf(f"Bad numeric range operator: {operator}")
    if reader.next_token() not in NUMERIC:
        reader.barf(f"Value of {operator} must be numeric")
    top = reader.text()
    if reader.next_token() != END_ARRAY:
        reader.barf("Too many terms in numeric range expression")
    low, high = _comparable_or_fail(bottom), _comparable_or_fail(top)
    if low >= high:
        raise IllegalArgument("Bottom must be less than top")
    return _range(low, open_bottom, high, operator == "<")


_SET_TYPE_PROBLEM = {
    "equals-ignore-case": "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
    "wildcard": "wildcard match pattern must be a string",
    "prefix": "prefix/suffix match pattern must be a string",
    "suffix": "prefix/suffix match pattern must be a string",
}


def _anything_but_expression(reader: Reader) -> Matcher:
    set_kind = None
    kind = reader.next_token()
    if kind == START_OBJECT:
        if reader.next_token() != FIELD_NAME:
            reader.barf("Anything-But expression name not found")
        if reader.name not in _SET_TYPE_PROBLEM:
            reader.barf(f"Unsupported anything-but pattern: {reader.name}")
        set_kind = reader.name
        kind = reader.next_token()
    if kind not in (START_ARRAY, STRING, INT, FLOAT):
        reader.barf("Value of anything-but must be an array or single string/number value.")
    if set_kind is None:
        matcher = _anything_but_list(reader) if kind == START_ARRAY else _anything_but_single(reader, kind)
    else:
        values = _anything_but_set_list(reader, set_kind) if kind == START_ARRAY else \
            [_anything_but_set_value(reader, kind, set_kind)]
        if set_kind == "wildcard":
            for value in values:
                try:
                    _wildcard_tokens(value)
                except IllegalArgument as problem:
                    reader.barf(str(problem))
        matcher = _anything_but_set(set_kind, values)
    if reader.next_token() != END_OBJECT:
        reader.barf("Too many elements in numeric expression")
    if set_kind is not None and reader.next_token() != END_OBJECT:
        reader.barf("Too many elements in numeric expression")
    return matcher


def _anything_but_list(reader: Reader) -> Matcher:
    keys, has_number, has_string = set(), False, False
    try:
        while (kind := reader.next_token()) != END_ARRAY:
            if kind == STRING:
                keys.add(("s", reader.text()))
                has_string = True
            elif kind in NUMERIC:
                keys.add(("n", _comparable_or_fail(reader.text())))
                has_number = True
            else:
                reader.barf("Inside anything but list, start|null|boolean is not supported.")
    except (Barf, IllegalArgument) as problem:
        reader.barf(str(problem))
    if has_number == has_string:
        reader.barf("Inside anything but list, either all values are number or string, mixed type is not supported")
    return _anything_but(frozenset(keys))


def _anything_but_single(reader: Reader, kind: str) -> Matcher:
    if kind == STRING:
        return _anything_but(frozenset([("s", reader.text())]))
    return _anything_but(frozenset([("n", _comparable_or_fail(reader.text()))]))


def _anything_but_set_value(reader: Reader, kind: str | None, set_kind: str) -> str:
    if kind != STRING:
        reader.barf(_SET_TYPE_PROBLEM[set_kind])
    text = reader.text()
    if set_kind in ("prefix", "suffix") and not text:
        reader.barf("Null prefix/suffix not allowed")
    return text


def _anything_but_set_list(reader: Reader, set_kind: str) -> list[str]:
    values: list[str] = []
    try:
        while (kind := reader.next_token()) != END_ARRAY:
            text = _anything_but_set_value(reader, kind, set_kind)
            if text not in values:
                values.append(text)
    except (Barf, IllegalArgument) as problem:
        reader.barf(str(problem))
    return values


# ---------------------------------------------------------------------------------------------
# Wildcard complexity (event-ruler's MachineComplexityEvaluator, as AWS applies it)
# ---------------------------------------------------------------------------------------------

def _wildcard_complexity(patterns: Iterable[str], limit: int) -> int:
    """The most wildcard-pattern states one input value can keep alive at once (capped at ``limit``).

    Modelled on event-ruler's byte machine and its MachineComplexityEvaluator: ``S(i)`` is the
    state after the literal bytes before token ``i``; a ``*`` at ``i`` adds a self-looping state
    ``W(i)`` entered on any byte, and the literal after the ``*`` is reachable from both. States
    before the first ``*`` (and that first loop) are shared by patterns with the same beginning and
    weigh as many patterns as run through them; an active ``S(i)`` whose loop ``W(i)`` is not
    active also counts the loop, as the evaluator does.
    """
    automata = [_wildcard_tokens(text) for text in dict.fromkeys(patterns)]
    weights: dict[tuple, int] = {}
    names: list[dict[tuple, tuple]] = []
    for number, tokens in enumerate(automata):
        first_star = tokens.index(-1)  if -1 in tokens else len(tokens)
        own: dict[tuple, tuple] = {}
        for position in range(len(tokens) + 1):
            kinds = ("S", "W") if position < len(tokens) and tokens[position] == -1 else ("S",)
            for kind in kinds:
                shared = position < first_star or (position == first_star and kind in ("S", "W"))
                name = (kind, bytes(tokens[:position])) if shared else (kind, number, position)
                weights[name] = weights.get(name, 0) + 1
                own[(kind, position)] = name
        names.append(own)
    alphabet = sorted({t for tokens in automata for t in tokens if t >= 0}) + [256]

    def step(number: int, kind: str, position: int, byte: int) -> list[tuple[int, str, int]]:
        tokens = automata[number]
        if kind == "W" or tokens[position] == -1:
            moved = [(number, "W", position)]
            if tokens[position + 1] == byte:
                moved.append((number, "S", position + 2))
            return moved
        return [(number, "S", position + 1)] if tokens[position] == byte else []

    def weight(active: frozenset) -> int:
        total = 0
        for name in {names[number][(kind, position)] for number, kind, position in active}:
            total += weights[name]
        for number, kind, position in active:
            tokens = automata[number]
            if kind == "S" and position < len(tokens) and tokens[position] == -1 \
                    and (number, "W", position) not in active:
                total += 1
        return total

    start = frozenset((number, "S", 0) for number in range(len(automata)))
    pending, seen, worst = [start], {start}, 0
    while pending and len(seen) < 20000:
        active = pending.pop()
        for byte in alphabet:
            following = frozenset(state for number, kind, position in active
                                  if position < len(automata[number])
                                  for state in step(number, kind, position, byte))
            if not following:
                continue
            worst = max(worst, weight(following))
            if worst >= limit:
                return limit
            if following not in seen:
                seen.add(following)
                pending.append(following)
    return worst


def _check_complexity(rules: Rules) -> None:
    by_path: dict[str, list[str]] = {}
    for rule in rules:
        for path, matchers in rule.items():
            for matcher in matchers:
                if matcher.kind == "wildcard":
                    by_path.setdefault(path, []).append(matcher.arg)
                elif matcher.kind == "anything-but-wildcard":
                    by_path.setdefault(path, []).extend(matcher.arg)
    for texts in by_path.values():
        if _wildcard_complexity(texts, WILDCARD_COMPLEXITY_LIMIT) >= WILDCARD_COMPLEXITY_LIMIT:
            raise IllegalArgument("Rule is too complex - try using fewer wildcard characters or fewer "
                                   "repeating character sequences after a wildcard character")


# ---------------------------------------------------------------------------------------------
# Compiled patterns
# ---------------------------------------------------------------------------------------------

class Field:
    """A path and the matchers OR-ed on it.

    ``exact`` holds the value keys of exact matchers, ``tests`` the other matchers' predicates,
    ``any_value`` is ``exists: true``, ``absent_ok`` is ``exists: false`` (the path has no value).
    """

    __slots__ = ("path", "matchers", "exact", "tests", "any_value", "absent_ok")

    def __init__(self, path: str, matchers: list[Matcher]):
        self.path, self.matchers = path, tuple(matchers)
        self.exact = frozenset(m.arg for m in matchers if m.kind == "exact")
        self.tests = tuple(m.test for m in matchers if m.test is not None)
        self.any_value = any(m.kind == "exists" and m.arg for m in matchers)
        self.absent_ok = any(m.kind == "exists" and not m.arg for m in matchers)

    def accepts(self, value: Any, key: tuple) -> bool:
        if self.any_value or key in self.exact:
            return True
        for test in self.tests:
            if test(value):
                return True
        return False

    def __repr__(self) -> str:
        return f"Field({self.path!r}, {list(self.matchers)!r})"


Branch = tuple  # tuple[Field, ...]


def branch_matches(branch: Branch, flat: Flat) -> bool:
    """Every field of the branch matches, with values from consistent array elements."""
    constrained = None
    for field in branch:
        values = flat.get(field.path)
        if not values:
            if field.absent_ok:
                continue
            return False
        candidates = None
        free = False
        for value, key, membership in values:
            if field.accepts(value, key):
                if not membership:
                    free = True
                    break
                if candidates is None:
                    candidates = [membership]
                else:
                    candidates.append(membership)
        if free:
            continue
        if candidates is None:
            return False
        if constrained is None:
            constrained = [candidates]
        else:
            constrained.append(candidates)
    return constrained is None or len(constrained) == 1 or _consistent(constrained, 0, {})


def _consistent(fields: list[list[tuple]], index: int, chosen: dict) -> bool:
    if index == len(fields):
        return True
    for membership in fields[index]:
        if all(chosen.get(array, position) == position for array, position in membership):
            added = [array for array, _ in membership if array not in chosen]
            chosen.update(membership)
            if _consistent(fields, index + 1, chosen):
                return True
            for array in added:
                del chosen[array]
    return False


class Pattern:
    """A compiled event pattern: ``matches(event)`` answers as EventBridge would."""

    __slots__ = ("source", "branches", "paths", "_wanted")

    def __init__(self, source: str, branches: list[Branch]):
        self.source = source
        self.branches = tuple(branches)
        self.paths = frozenset(field.path for branch in branches for field in branch)
        self._wanted = frozenset(wanted_paths(self.paths))

    def matches(self, event: dict) -> bool:
        flat = flatten(event, self._wanted)
        return self.matches_flat(flat)

    def matches_flat(self, flat: Flat) -> bool:
        """Match an event already flattened (with at least this pattern's paths)."""
        for branch in self.branches:
            if branch_matches(branch, flat):
                return True
        return False

    def __repr__(self) -> str:
        return f"Pattern({self.source!r})"


def compile_pattern(pattern: str | dict) -> Pattern:
    """Validate and compile an event pattern; raises :class:`InvalidEventPattern` with AWS's reason.

    A string is compiled as sent (duplicate keys, invalid JSON and all); anything else is first
    written as ``json.dumps`` does, which is what a client sends on the wire.
    """
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    try:
        rules = _compile_rules(text)
        _check_complexity(rules)
    except (Barf, IllegalArgument) as problem:
        raise InvalidEventPattern(REASON + str(problem)) from None
    except RecursionError:  # Jackson refuses past 1,000 levels; Python's stack gives out first
        raise InvalidEventPattern(REASON + f"Document nesting depth exceeds the maximum allowed ({MAX_NESTING}, "
                                  "from `StreamReadConstraints.getMaxNestingDepth()`)") from None
    branches = [tuple(sorted((Field(path, matchers) for path, matchers in rule.items()), key=_check_order))
                for rule in rules]
    return Pattern(text, branches)


def _check_order(field: Field) -> tuple[bool, str]:
    """Exact-value fields last: an index has already seen them hit, the others fail more often."""
    return bool(field.exact) and len(field.exact) == len(field.matchers), field.path


def check_event(event: str | bytes | dict) -> dict:
    """The Event of TestEventPattern as AWS accepts it: a JSON object with the envelope fields."""
    if isinstance(event, (str, bytes)):
        try:
            event = json.loads(event)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
            raise ValidationException(EVENT_NOT_VALID) from None
    if not isinstance(event, dict) or any(name not in event for name in EVENT_REQUIRED_FIELDS):
        raise ValidationException(EVENT_NOT_VALID)
    return event
