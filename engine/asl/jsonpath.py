"""JSONPath the way AWS Step Functions evaluates it: the Jayway dialect.

AWS runs Jayway JsonPath (Java) with its default options; this module reproduces that dialect
rather than wrapping jsonpath-ng, whose grammar rejects paths AWS accepts (``.length()``,
``&&``/``||``/``!`` in filters, ``null`` literals, ``in``/``nin``, non-ASCII keys, keys that
start with a digit) and whose wildcard/filter semantics differ.

Public surface:

* :func:`compile_path` -> :class:`CompiledPath` (cached); :class:`PathError` when it does not parse.
* :func:`is_definite`, :func:`query` -- static questions and lenient matching.
* :func:`resolve` -- a path against a state's data, the context object (``$$...``) or a
  workflow variable (``$name...``); :class:`NoMatch` when a definite path selects nothing.
* :func:`select` -- InputPath/OutputPath/ItemsPath/...; failures carry AWS's exact cause.
* :func:`put` -- ResultPath: copy-on-write placement of a result.
* :func:`json_text`, :func:`java_text`, :func:`json_equal` -- how AWS (Java, Jackson) prints
  and compares JSON values; used for messages and by the intrinsics.

Evaluation is lenient, as AWS's is: a branch that cannot be followed (missing key, index on a
non-array, ...) simply contributes nothing. Only a definite path that ends up with nothing is an
error, reported like Jayway: ``No results for path: $['a']['b']``. Indefinite paths that match
nothing give ``[]`` (AWS: ``$.items[*]`` on ``{}`` is ``[]``).
"""
from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from engine.asl.failures import RESULT_PATH_MATCH_FAILURE, Failure
from engine.asl.scope import Scope

_CHOICE_PATH_FIELD = re.compile(r"^(String|Numeric|Boolean|Timestamp)[A-Za-z]*Path$")
_VARIABLE = re.compile(r"\s*\$([A-Za-z_][A-Za-z0-9_]*)")  # "$name" then an optional path


class PathError(ValueError):
    """A path that does not parse; the message names the path, the problem and the position."""


class NoMatch(Exception):
    """A definite path selected nothing (``detail``: Jayway's words for it)."""

    def __init__(self, path: str, detail: str = ""):
        super().__init__(f"{path}: {detail}" if detail else path)
        self.path = path
        self.detail = detail


# ---------------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class _Prop:
    names: tuple[str, ...]

    def text(self) -> str:
        return "[" + ",".join(f"'{name}'" for name in self.names) + "]"


@dataclass(frozen=True)
class _Index:
    indexes: tuple[int, ...]

    def text(self) -> str:
        return "[" + ",".join(str(i) for i in self.indexes) + "]"


@dataclass(frozen=True)
class _Slice:
    start: int | None
    end: int | None

    def text(self) -> str:
        return f"[{'' if self.start is None else self.start}:{'' if self.end is None else self.end}]"


class _Wildcard:
    text = staticmethod(lambda: "[*]")


class _Scan:  # "..": the next token applies to every node below
    text = staticmethod(lambda: "..")


@dataclass(frozen=True, eq=False)
class _Filter:
    test: Callable[[Any, Any], bool]  # (candidate, root document) -> keep?

    def text(self) -> str:
        return "[?]"


_WILDCARD, _SCAN = _Wildcard(), _Scan()


def _token_definite(token: Any, leaf: bool) -> bool:
    if isinstance(token, _Prop):  # Jayway merges several properties into one object at the leaf
        return len(token.names) == 1 or leaf
    return isinstance(token, _Index) and len(token.indexes) == 1


# ------------------------------------------------------------------------------- functions

def _numbers(value: Any) -> list:
    items = value if isinstance(value, list) else []
    numbers = [x for x in items if _is_number(x)]
    if not numbers:
        raise ValueError("Aggregation function attempted to calculate value using empty array")
    return numbers


def _length(value: Any) -> int:
    if isinstance(value, (list, dict, str)):
        return len(value)
    raise ValueError(f"length() cannot be applied to {json_text(value)}")


_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "length": _length,
    "size": _length,
    "min": lambda v: float(min(_numbers(v))),
    "max": lambda v: float(max(_numbers(v))),
    "sum": lambda v: float(sum(_numbers(v))),
    "avg": lambda v: sum(_numbers(v)) / len(_numbers(v)),
    "keys": lambda v: list(v) if isinstance(v, dict) else _fail(f"keys() needs an object, got {json_text(v)}"),
    "first": lambda v: v[0] if isinstance(v, list) and v else _fail("first() needs a non-empty array"),
    "last": lambda v: v[-1] if isinstance(v, list) and v else _fail("last() needs a non-empty array"),
}


def _fail(message: str) -> Any:
    raise ValueError(message)


# ---------------------------------------------------------------------------- compiled path

@dataclass(frozen=True)
class CompiledPath:
    """A parsed path. ``context`` paths ("$$...") are evaluated against the context object."""

    text: str
    context: bool
    tokens: tuple
    function: str | None = None

    @property
    def definite(self) -> bool:
        """True when the path yields one value rather than a list of matches."""
        return self.function is not None or self._definite_tokens()

    @functools.cached_property
    def _definite(self) -> bool:
        last = len(self.tokens) - 1
        return all(_token_definite(t, i == last) for i, t in enumerate(self.tokens))

    def _definite_tokens(self) -> bool:
        return self._definite

    @functools.cached_property
    def _steps(self) -> tuple | None:
        """The keys and indexes of a path made only of single names and single indexes (the
        common case, ``$.order.items[0].sku``), walked without building match lists; None for
        any other path."""
        if self.function is not None:
            return None
        steps = []
        for token in self.tokens:
            if isinstance(token, _Prop) and len(token.names) == 1:
                steps.append(token.names[0])
            elif isinstance(token, _Index) and len(token.indexes) == 1:
                steps.append(token.indexes[0])
            else:
                return None
        return tuple(steps)

    def normalized(self) -> str:
        """Jayway's canonical spelling, as its error messages print it: ``$['a'][0]``."""
        suffix = f".{self.function}()" if self.function else ""
        return "$" + "".join(token.text() for token in self.tokens) + suffix

    def evaluate(self, document: Any) -> Any:
        """The value (definite path) or the list of matches (indefinite path).

        A definite path that selects nothing raises :class:`NoMatch`.
        """
        steps = self._steps
        if steps is not None:
            return self._follow(steps, document)
        values = _walk(self.tokens, document, document)
        if self._definite_tokens():
            if not values:
                raise NoMatch(self.text, f"No results for path: {self.normalized()}")
            result = values[0]
        else:
            result = values
        if self.function is None:
            return result
        try:
            return _FUNCTIONS[self.function](result)
        except ValueError as error:
            raise NoMatch(self.text, str(error)) from None

    def _follow(self, steps: tuple, value: Any) -> Any:
        for step in steps:
            if isinstance(step, str):
                if not isinstance(value, dict) or step not in value:
                    raise NoMatch(self.text, f"No results for path: {self.normalized()}")
                value = value[step]
            else:
                if not isinstance(value, list):
                    raise NoMatch(self.text, f"No results for path: {self.normalized()}")
                index = step + len(value) if step < 0 else step
                if not 0 <= index < len(value):
                    raise NoMatch(self.text, f"No results for path: {self.normalized()}")
                value = value[index]
        return value

    def find(self, document: Any) -> list:
        """Every match, never raising: fanned-out and missing branches are just absent."""
        values = _walk(self.tokens, document, document)
        if self.function is None:
            return values
        try:
            subject = values if not self._definite_tokens() else values[0]
            return [_FUNCTIONS[self.function](subject)]
        except (ValueError, IndexError):
            return []


def _walk(tokens: tuple, document: Any, root: Any) -> list:
    values, i = [document], 0
    while i < len(tokens):
        if tokens[i] is _SCAN:  # ".." applies the next token to every node, depth first
            i += 1
            values = [node for v in values for node in _preorder(v)]
        leaf = i == len(tokens) - 1
        values = [m for v in values for m in _step(tokens[i], v, root, leaf)]
        i += 1
    return values


def _preorder(value: Any):
    yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        yield from _preorder(child)


def _step(token: Any, value: Any, root: Any, leaf: bool) -> list:
    """Apply one token to one node; a token that does not fit the node selects nothing."""
    if isinstance(token, _Prop):
        if not isinstance(value, dict):
            return []
        if len(token.names) == 1:
            return [value[token.names[0]]] if token.names[0] in value else []
        present = [name for name in token.names if name in value]
        return [{name: value[name] for name in present}] if leaf else [value[name] for name in present]
    if isinstance(token, (_Index, _Slice)):
        return _elements(token, value) if isinstance(value, list) else []
    if token is _WILDCARD:
        return list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, list) else []
    if isinstance(value, list):  # a filter
        return [item for item in value if token.test(item, root)]
    if isinstance(value, dict):  # Jayway tests an object itself rather than its members
        return [value] if token.test(value, root) else []
    return []


def _elements(token: _Index | _Slice, items: list) -> list:
    size = len(items)
    if isinstance(token, _Index):
        positions = [i + size if i < 0 else i for i in token.indexes]
        return [items[i] for i in positions if 0 <= i < size]
    start = 0 if token.start is None else max(0, token.start + size) if token.start < 0 else token.start
    end = size if token.end is None else max(0, token.end + size) if token.end < 0 else token.end
    return items[start:end]


# ---------------------------------------------------------------------------------- parser

_STOP = frozenset(".[( \t\r\n")  # where a dot-notation name ends in a whole path
_FILTER_STOP = frozenset(".[()=!<>&|,~ \t\r\n")  # ... and inside a filter expression


class _Reader:
    def __init__(self, text: str, pos: int = 0):
        self.text, self.pos = text, pos

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def eat(self, literal: str) -> bool:
        if self.text.startswith(literal, self.pos):
            self.pos += len(literal)
            return True
        return False

    def skip_ws(self) -> None:
        while self.peek() and self.peek() in " \t\r\n":
            self.pos += 1

    def expect(self, literal: str, what: str) -> None:
        self.skip_ws()
        if not self.eat(literal):
            raise self.error(f"expected {what}")

    def error(self, problem: str) -> PathError:
        found = repr(self.peek()) if self.peek() else "the end"
        return PathError(f"Invalid JSONPath '{self.text}': {problem}, found {found} at character {self.pos + 1}")


@functools.lru_cache(maxsize=2048)
def compile_path(path: str) -> CompiledPath:
    """Parse a path (``$``, ``$.a[0]``, ``$..b``, ``$.a[?(@.x > 1)]``, ``$$.Execution.Id`` ...)."""
    if not isinstance(path, str):
        raise PathError(f"Invalid JSONPath {path!r}: a path must be a string")
    text = path.strip()
    context = text.startswith("$$")
    reader = _Reader(text, 1 if context else 0)
    if not reader.eat("$"):
        raise reader.error("a path must start with '$'")
    tokens, function = _parse_tokens(reader, _STOP, in_filter=False)
    return CompiledPath(path, context, tuple(tokens), function)


def _parse_tokens(reader: _Reader, stop: frozenset, in_filter: bool) -> tuple[list, str | None]:
    tokens: list = []
    while not reader.at_end():
        if reader.eat(".."):
            tokens.append(_SCAN)
            tokens.append(_after_scan(reader, stop))
        elif reader.eat("."):
            if reader.eat("*"):
                tokens.append(_WILDCARD)
                continue
            name = _read_name(reader, stop)
            if reader.peek() == "(":
                return tokens, _read_function(reader, name, stop, in_filter)
            tokens.append(_Prop((name,)))
        elif reader.peek() == "[":
            tokens.append(_parse_bracket(reader))
        elif in_filter and reader.peek() in stop:
            break
        else:
            raise reader.error("expected '.', '..' or '['")
    return tokens, None


def _after_scan(reader: _Reader, stop: frozenset) -> Any:
    if reader.peek() == "[":
        return _parse_bracket(reader)
    if reader.eat("*"):
        return _WILDCARD
    return _Prop((_read_name(reader, stop),))


def _read_name(reader: _Reader, stop: frozenset) -> str:
    start = reader.pos
    while not reader.at_end() and reader.peek() not in stop:
        reader.pos += 1
    if reader.pos == start:
        raise reader.error("expected a property name after '.'")
    return reader.text[start:reader.pos]


def _read_function(reader: _Reader, name: str, stop: frozenset, in_filter: bool) -> str:
    if name not in _FUNCTIONS:
        raise reader.error(f"unknown function {name}() (supported: {', '.join(sorted(_FUNCTIONS))})")
    reader.expect("(", "'('")
    reader.expect(")", f"')' (function {name}() takes no arguments here)")
    if not (reader.at_end() or (in_filter and reader.peek() in stop)):
        raise reader.error(f"a function call such as {name}() must end the path")
    return name


def _parse_bracket(reader: _Reader) -> Any:
    reader.eat("[")
    reader.skip_ws()
    char = reader.peek()
    if reader.eat("*"):
        token: Any = _WILDCARD
    elif reader.eat("?"):
        reader.expect("(", "'(' after '[?'")
        token = _Filter(_parse_or(reader))
        reader.expect(")", "')' closing the filter")
    elif char in ("'", '"'):
        names = [_read_quoted(reader)]
        while _eat_ws(reader, ","):
            reader.skip_ws()
            names.append(_read_quoted(reader))
        token = _Prop(tuple(names))
    elif char and char in "-0123456789:":
        token = _parse_indexes(reader)
    else:
        raise reader.error("expected a quoted name, an index, a slice, '*' or '?(' after '['")
    reader.expect("]", "']'")
    return token


def _eat_ws(reader: _Reader, literal: str) -> bool:
    reader.skip_ws()
    return reader.eat(literal)


def _read_quoted(reader: _Reader, unescape: bool = False) -> str:
    """A quoted name or string. A backslash stops the next character from closing the quote;
    in bracket names it stays part of the name, as on AWS (``$['a\\"b']`` is the key ``a\\"b``),
    while filter string literals are unescaped."""
    quote, start = reader.peek(), reader.pos
    reader.pos += 1
    chars: list[str] = []
    while not reader.at_end() and reader.peek() != quote:
        if reader.peek() == "\\" and reader.pos + 1 < len(reader.text):
            escaped = reader.text[reader.pos + 1]
            chars.append(_ESCAPES.get(escaped, escaped) if unescape else "\\" + escaped)
            reader.pos += 2
            continue
        chars.append(reader.peek())
        reader.pos += 1
    if not reader.eat(quote):
        reader.pos = start
        raise reader.error("unterminated quoted string")
    return "".join(chars)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


def _parse_indexes(reader: _Reader) -> _Index | _Slice:
    start = reader.pos
    while not reader.at_end() and reader.peek() != "]":
        reader.pos += 1
    content = reader.text[start:reader.pos].replace(" ", "")
    try:
        if ":" not in content:
            return _Index(tuple(int(part) for part in content.split(",")))
        bounds = content.split(":")
        if len(bounds) != 2 or bounds == ["", ""]:
            raise ValueError
        return _Slice(*(int(b) if b else None for b in bounds))
    except ValueError:
        reader.pos = start
        raise reader.error("expected indexes like [0] or [0,2] or a slice like [1:], [:2], [1:3]") from None


# ------------------------------------------------------------------------ filter expressions

_MISSING = object()  # a filter operand path that selects nothing
_OPERATORS = ("===", "!==", "==", "!=", "<=", ">=", "=~", "<", ">")
_WORD_OPERATORS = ("subsetof", "contains", "noneof", "anyof", "empty", "size", "nin", "in")
_Test = Callable[[Any, Any], bool]


def _parse_or(reader: _Reader) -> _Test:
    left = _parse_and(reader)
    while _eat_ws(reader, "||"):
        left = (lambda a, b: lambda item, root: a(item, root) or b(item, root))(left, _parse_and(reader))
    return left


def _parse_and(reader: _Reader) -> _Test:
    left = _parse_unary(reader)
    while _eat_ws(reader, "&&"):
        left = (lambda a, b: lambda item, root: a(item, root) and b(item, root))(left, _parse_unary(reader))
    return left


def _parse_unary(reader: _Reader) -> _Test:
    reader.skip_ws()
    if reader.peek() == "!" and not reader.text.startswith("!=", reader.pos):
        reader.pos += 1
        inner = _parse_unary(reader)
        return lambda item, root: not inner(item, root)
    if reader.eat("("):
        inner = _parse_or(reader)
        reader.expect(")", "')'")
        return inner
    return _parse_relation(reader)


def _parse_relation(reader: _Reader) -> _Test:
    left = _parse_operand(reader)
    reader.skip_ws()
    operator = _read_operator(reader)
    if operator is None:
        if not isinstance(left, CompiledPath):
            raise reader.error("expected a comparison operator after a literal")
        return lambda item, root: _operand(left, item, root) is not _MISSING
    right = _parse_operand(reader)
    compare = _COMPARATORS[operator]
    return lambda item, root: compare(_operand(left, item, root), _operand(right, item, root))


def _read_operator(reader: _Reader) -> str | None:
    for operator in _OPERATORS:
        if reader.eat(operator):
            return operator
    for word in _WORD_OPERATORS:
        end = reader.pos + len(word)
        if reader.text.startswith(word, reader.pos) and not reader.text[end:end + 1].isalnum():
            reader.pos = end
            return word
    return None


def _parse_operand(reader: _Reader) -> Any:
    """A CompiledPath (``@...`` relative to the candidate, ``$...`` to the root) or a literal."""
    reader.skip_ws()
    char, start = reader.peek(), reader.pos
    if char in ("@", "$"):
        reader.pos += 1
        tokens, function = _parse_tokens(reader, _FILTER_STOP, in_filter=True)
        return CompiledPath(reader.text[start:reader.pos], char == "$", tuple(tokens), function)
    if char in ("'", '"'):
        return _Literal(_read_quoted(reader, unescape=True))
    if char == "/":
        return _Literal(_read_regex(reader))
    if char == "[":
        return _Literal(_read_list(reader))
    if char == "{":
        return _Literal(_read_json(reader))
    number = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?").match(reader.text, reader.pos)
    if number:
        reader.pos = number.end()
        return _Literal(json.loads(number.group()))
    for word, value in (("true", True), ("false", False), ("null", None)):
        if reader.eat(word):
            return _Literal(value)
    raise reader.error("expected '@', '$', a string, a number, true, false, null, /regex/ or JSON")


@dataclass(frozen=True)
class _Literal:
    value: Any


def _operand(operand: Any, item: Any, root: Any) -> Any:
    if isinstance(operand, _Literal):
        return operand.value
    matches = operand.find(root if operand.context else item)
    if operand.definite:
        return matches[0] if matches else _MISSING
    return matches


def _read_regex(reader: _Reader) -> re.Pattern:
    match = re.compile(r"/((?:\\.|[^/\\])*)/([a-zA-Z]*)").match(reader.text, reader.pos)
    if not match:
        raise reader.error("unterminated /regex/")
    reader.pos = match.end()
    flags = 0
    for letter in match.group(2):
        flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}.get(letter, 0)
    try:
        return re.compile(match.group(1), flags)
    except re.error as error:
        raise reader.error(f"invalid regular expression ({error})") from None


def _read_list(reader: _Reader) -> list:
    """``['a', 1, "b"]``: Jayway accepts single-quoted strings in array literals."""
    reader.eat("[")
    items: list = []
    if _eat_ws(reader, "]"):
        return items
    while True:
        item = _parse_operand(reader)
        if not isinstance(item, _Literal):
            raise reader.error("expected a literal inside [...]")
        items.append(item.value)
        if _eat_ws(reader, "]"):
            return items
        reader.expect(",", "',' or ']'")


def _read_json(reader: _Reader) -> Any:
    try:
        value, end = json.JSONDecoder().raw_decode(reader.text, reader.pos)
    except json.JSONDecodeError:
        raise reader.error("invalid JSON literal") from None
    reader.pos = end
    return value


def _loose_equal(a: Any, b: Any) -> bool:
    """Jayway's ``==``: numbers compare by value, also against numeric strings."""
    if _is_number(a) and isinstance(b, str) or isinstance(a, str) and _is_number(b):
        number, text = (a, b) if _is_number(a) else (b, a)
        try:
            return Decimal(text) == Decimal(repr(number))
        except ArithmeticError:
            return False
    return json_equal(a, b, strict_numbers=False)


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        if _is_number(a) and _is_number(b) or isinstance(a, str) and isinstance(b, str):
            return test(a, b)
        return False
    return compare


def _member(a: Any, b: Any) -> bool:
    return isinstance(b, list) and any(_loose_equal(a, x) for x in b)


def _contains(a: Any, b: Any) -> bool:
    if isinstance(a, str):
        return isinstance(b, str) and b in a
    return isinstance(a, list) and _member(b, a)


def _lists(test: Callable[[list, list], bool]) -> Callable[[Any, Any], bool]:
    return lambda a, b: isinstance(a, list) and isinstance(b, list) and test(a, b)


_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a is not _MISSING and b is not _MISSING and _loose_equal(a, b),
    "!=": lambda a, b: not (a is not _MISSING and b is not _MISSING and _loose_equal(a, b)),
    "===": lambda a, b: a is not _MISSING and json_equal(a, b),
    "!==": lambda a, b: a is _MISSING or not json_equal(a, b),
    "<": _ordered(lambda a, b: a < b),
    "<=": _ordered(lambda a, b: a <= b),
    ">": _ordered(lambda a, b: a > b),
    ">=": _ordered(lambda a, b: a >= b),
    "=~": lambda a, b: isinstance(a, str) and isinstance(b, re.Pattern) and b.fullmatch(a) is not None,
    "in": _member,
    "nin": lambda a, b: not _member(a, b),
    "size": lambda a, b: isinstance(a, (str, list)) and _is_number(b) and len(a) == b,
    "empty": lambda a, b: isinstance(a, (str, list)) and isinstance(b, bool) and (len(a) == 0) == b,
    "contains": _contains,
    "subsetof": _lists(lambda a, b: all(_member(x, b) for x in a)),
    "anyof": _lists(lambda a, b: any(_member(x, b) for x in a)),
    "noneof": _lists(lambda a, b: not any(_member(x, b) for x in a)),
}


# ------------------------------------------------------------------------------ public API

def is_definite(path: str) -> bool:
    """True when the path names one node (no wildcard, ``..``, filter, slice or union)."""
    return compile_path(path).definite


def query(path: str, data: Any) -> list:
    """Every value the path matches in ``data`` (``$$`` paths too); never raises NoMatch."""
    return compile_path(path).find(data)


def resolve(path: str, data: Any, scope: Scope) -> Any:
    """A path's value: ``$$...`` against ``scope.context``, ``$name...`` against the variable
    ``name`` in ``scope.variables``, anything else against ``data``.

    A definite path returns its value or raises :class:`NoMatch`; an indefinite path returns
    the list of matches, possibly empty.
    """
    variable, rest = split_variable(path)
    compiled = _compile_at_runtime(rest, scope)
    if variable is None:
        return compiled.evaluate(scope.context if compiled.context else data)
    variables = scope.variables or {}
    if variable not in variables:
        raise NoMatch(path, f"The variable '{variable}' is not defined")
    return compiled.evaluate(variables[variable])


def split_variable(path: str) -> tuple[str | None, str]:
    """``"$order.items[0]"`` -> ``("order", "$.items[0]")``; other paths -> ``(None, path)``."""
    if not isinstance(path, str):
        return None, path
    return _split_variable(path)


@functools.lru_cache(maxsize=4096)
def _split_variable(path: str) -> tuple[str | None, str]:
    match = _VARIABLE.match(path)
    if match is None:
        return None, path
    return match.group(1), "$" + path[match.end():]


def select(path: str | None, data: Any, scope: Scope, field: str) -> Any:
    """Apply a Path field (InputPath, OutputPath, ItemsPath, Variable, ...) to ``data``.

    ``None`` (JSON null in the definition) selects ``{}``. A path that selects nothing fails
    the state with States.Runtime and the cause AWS gives for that field.
    """
    if path is None:
        return {}
    try:
        return resolve(path, data, scope)
    except NoMatch as no_match:
        raise scope.runtime_failure(_no_match_message(path, data, field, no_match)) from None


def _no_match_message(path: str, data: Any, field: str, no_match: NoMatch) -> str:
    if field == "Variable" or _CHOICE_PATH_FIELD.match(field):
        return f"Invalid path '{path}': The choice state's condition path references an invalid value."
    if field in ("ErrorPath", "CausePath"):
        return f"The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{json_text(data)}'"
    if field in ("SecondsPath", "TimestampPath"):
        return f"The {field} parameter does not reference an input value: {path}"
    return f"Invalid path '{path}' : {no_match.detail}"


def _compile_at_runtime(path: str, scope: Scope) -> CompiledPath:
    # Definitions are validated up front; a bad path reaching here still fails the state
    # rather than the engine.
    try:
        return compile_path(path)
    except PathError as error:
        raise scope.runtime_failure(str(error)) from None


def put(document: Any, result_path: str | None, value: Any, scope: Scope) -> Any:
    """ResultPath: ``document`` with ``value`` placed at ``result_path``; the input is untouched.

    ``None`` discards the result, ``$`` replaces the document, any other reference path
    creates missing objects along the way. Copies are made only along the path.
    """
    if result_path is None:
        return document
    compiled = _compile_at_runtime(result_path, scope)
    settable = not compiled.context and compiled.function is None and all(
        isinstance(t, _Prop) and len(t.names) == 1 or isinstance(t, _Index) and len(t.indexes) == 1
        for t in compiled.tokens
    )
    try:
        if not settable:
            raise _Unsettable
        return _set(document, compiled.tokens, value)
    except _Unsettable:
        # Observed AWS text; AWS itself names this error States.ReferencePathConflict.
        cause = f"Unable to apply ReferencePath {result_path} to input {json_text(document)}"
        raise Failure(RESULT_PATH_MATCH_FAILURE, cause) from None


class _Unsettable(Exception):
    pass


# -------------------------------------------------------------------- compiled accessors
# A state's Path fields are known once its definition is loaded, so the interpreter compiles each
# into a function of (data, scope) once (see plan.py). The common paths, ``$`` and ``$.a.b``,
# walk the data directly; a walk that misses, and every other path, goes through resolve, select
# or put, which raise the failure AWS gives (evaluation is pure, so trying again is harmless).

Access = Callable[[Any, Scope], Any]  # (data, scope) -> value
Place = Callable[[Any, Any, Scope], Any]  # (document, value, scope) -> the document with value placed


def selector(path: str | None, field: str) -> Access:
    """``select(path, data, scope, field)`` as a function of (data, scope)."""
    if path is None:
        return lambda data, scope: {}
    if plain_keys(path) == ():
        return lambda data, scope: data  # "$": what select gives, without its work
    return compile_lookup(path, lambda data, scope: select(path, data, scope, field))


def compile_lookup(path: str, fallback: Access) -> Access:
    """``fallback`` (the full evaluation of ``path``), walked directly when the path is only
    names against the state's data (``$``, ``$.a.b``) and the data has them all."""
    keys = plain_keys(path)
    if keys is None:
        return fallback

    def lookup(data: Any, scope: Scope) -> Any:
        if data is None:
            return fallback(data, scope)
        value = data
        try:
            for key in keys:
                value = value[key]  # a dict's member; a list, a string or a number raises TypeError
        except (KeyError, TypeError):
            return fallback(data, scope)
        return value

    return lookup


def placer(result_path: str | None) -> Place:
    """``put(document, result_path, value, scope)`` as a function of (document, value, scope)."""
    if result_path is None:
        return lambda document, value, scope: document
    keys = plain_keys(result_path)
    if keys is None:
        return lambda document, value, scope: put(document, result_path, value, scope)
    if not keys:
        return lambda document, value, scope: value

    def place(document: Any, value: Any, scope: Scope) -> Any:
        if not isinstance(document, dict):
            return put(document, result_path, value, scope)
        top = node = dict(document)
        for key in keys[:-1]:
            child = node.get(key, _ABSENT)
            if child is _ABSENT:
                child = {}  # ResultPath creates the objects it needs
            elif isinstance(child, dict):
                child = dict(child)  # copy on write: the input stays untouched
            else:
                return put(document, result_path, value, scope)
            node[key] = child
            node = child
        node[keys[-1]] = value
        return top

    return place


_ABSENT = object()


def plain_keys(path: str) -> tuple[str, ...] | None:
    """The member names of a path made only of single names against the state's data
    (``$.order.id`` -> ``("order", "id")``, ``$`` -> ``()``); None for any other path: a
    context, variable or indefinite path, an index, a function, or one that does not parse."""
    if split_variable(path)[0] is not None:
        return None
    try:
        compiled = compile_path(path)
    except PathError:
        return None
    steps = compiled._steps
    if compiled.context or steps is None or not all(isinstance(step, str) for step in steps):
        return None
    return steps


def _set(node: Any, tokens: tuple, value: Any) -> Any:
    if not tokens:
        return value
    token, rest = tokens[0], tokens[1:]
    if isinstance(token, _Prop) and isinstance(node, dict):
        name = token.names[0]
        copy = dict(node)
        copy[name] = _set(node[name] if name in node else {}, rest, value)
        return copy
    if isinstance(token, _Index) and isinstance(node, list):
        index = token.indexes[0] + (len(node) if token.indexes[0] < 0 else 0)
        if 0 <= index < len(node):
            copy = list(node)
            copy[index] = _set(node[index], rest, value)
            return copy
    raise _Unsettable


# -------------------------------------------------------------------- JSON the Java way

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def json_equal(a: Any, b: Any, *, strict_numbers: bool = True) -> bool:
    """JSON equality: true never equals 1; with ``strict_numbers`` 1 and 1.0 differ too
    (Jackson keeps integers and doubles apart, so AWS does)."""
    if _is_number(a) and _is_number(b):
        same_kind = isinstance(a, float) == isinstance(b, float)
        return a == b and (same_kind or not strict_numbers)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y, strict_numbers=strict_numbers) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k], strict_numbers=strict_numbers) for k in a)
    return type(a) is type(b) and a == b


def java_double(number: float) -> str:
    """``Double.toString``: ``1.0``, ``0.001``, ``1.0E7``, ``1.234E-5`` (Jackson prints doubles so)."""
    if math.isnan(number) or math.isinf(number):
        return "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
    if number == 0:
        return "-0.0" if math.copysign(1.0, number) < 0 else "0.0"
    sign, digit_tuple, exponent = Decimal(repr(number)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    exponent += len(digit_tuple) - len(digits)
    magnitude = len(digits) + exponent - 1  # decimal exponent of the first digit
    text = "-" if sign else ""
    if 1e-3 <= abs(number) < 1e7:
        if magnitude >= 0:
            whole, fraction = digits[: magnitude + 1].ljust(magnitude + 1, "0"), digits[magnitude + 1:]
        else:
            whole, fraction = "0", "0" * (-magnitude - 1) + digits
        return f"{text}{whole}.{fraction or '0'}"
    return f"{text}{digits[0]}.{digits[1:] or '0'}E{magnitude}"


def json_text(value: Any) -> str:
    """Compact JSON as AWS writes it (Jackson): no spaces, doubles like Java, no ASCII escaping."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, (int, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(json_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + json_text(v) for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def java_text(value: Any) -> str:
    """Java ``toString`` of the parsed value: ``{a=1, b=[x, y]}``; what States.Format prints."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(java_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={java_text(item)}" for key, item in value.items()) + "}"
    return json_text(value)
