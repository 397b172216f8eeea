"""Intrinsic functions (``States.Format(...)`` and friends) for JSONPath payload templates.

:func:`parse` turns the text into a small AST (:class:`Call`, :class:`Literal`, :class:`PathArg`)
and is cached, so a definition's intrinsics are parsed once; :func:`evaluate` runs it.

Failures follow what AWS does at run time: a bad argument fails the state with States.Runtime
and the cause ``Invalid arguments in States.<Name>`` (AWS gives no more detail, so neither do
we); a path argument that selects nothing fails like a payload-template path. Numbers that
must be integers are truncated, except in States.MathAdd, which rounds half up like Java's
``Math.round`` (both observed on AWS).
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from engine.asl import history, jsonpath
from engine.asl.scope import Scope

MAX_NESTING = 10  # AWS: "You can nest up to 10 intrinsic functions within a field"
MAX_TEXT = 10_000  # characters; the Base64 and Hash input limit
MAX_RANGE = 1000  # elements States.ArrayRange may produce


class IntrinsicSyntaxError(ValueError):
    """Intrinsic text that does not parse; the message says what is wrong and where."""


@dataclass(frozen=True)
class Literal:
    value: Any
    raw: str | None = None  # a string literal's text between the quotes, escapes intact


@dataclass(frozen=True)
class PathArg:
    path: str  # "$..." the state's data, "$$..." the context object, "$name..." a variable


@dataclass(frozen=True)
class Call:
    name: str  # "States.Format"
    args: tuple
    position: int  # character offset of the call in the text, for messages


class _Invalid(Exception):
    """Raised by a function implementation: its arguments are unusable."""


# ------------------------------------------------------------------------------------ parse

def is_intrinsic(text: Any) -> bool:
    """True for a string that reads as an intrinsic call, e.g. ``States.Array($.a)``."""
    return isinstance(text, str) and re.match(r"\s*States\.[A-Za-z0-9]+\s*\(", text) is not None


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Call:
    """Parse an intrinsic call; :class:`IntrinsicSyntaxError` when it is malformed."""
    parser = _Parser(text)
    call = parser.call(depth=1)
    parser.skip_ws()
    if parser.pos < len(text):
        raise parser.error("unexpected text after the closing ')'")
    return call


class _Parser:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def error(self, problem: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(f"Invalid intrinsic function '{self.text}': {problem} at character {self.pos + 1}")

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def call(self, depth: int) -> Call:
        self.skip_ws()
        start = self.pos
        match = re.compile(r"(States\.[A-Za-z0-9]+)\s*\(").match(self.text, self.pos)
        if not match:
            raise self.error("expected a call such as States.Format(...)")
        name = match.group(1)
        if name not in _FUNCTIONS:
            raise self.error(f"unknown intrinsic function {name}")
        if depth > MAX_NESTING:
            raise self.error(f"intrinsic functions nest at most {MAX_NESTING} deep")
        self.pos = match.end()
        args = self.arguments(depth)
        low, high = _ARITY[name]
        if not low <= len(args) <= (high if high is not None else len(args)):
            expected = f"{low}" if low == high else f"{low} to {high}" if high else f"at least {low}"
            self.pos = start
            raise self.error(f"{name} takes {expected} argument(s), got {len(args)}")
        return Call(name, tuple(args), start)

    def arguments(self, depth: int) -> list:
        args: list = []
        self.skip_ws()
        if self.text.startswith(")", self.pos):
            self.pos += 1
            return args
        while True:
            args.append(self.argument(depth))
            self.skip_ws()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif self.text.startswith(")", self.pos):
                self.pos += 1
                return args
            else:
                raise self.error("expected ',' or ')' after an argument")

    def argument(self, depth: int) -> Any:
        self.skip_ws()
        rest = self.text[self.pos:]
        if rest.startswith("'"):
            return self.string()
        if rest.startswith("$"):
            return self.path()
        if rest.startswith("States."):
            return self.call(depth + 1)
        number = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?(?![\w.])").match(self.text, self.pos)
        if number:
            self.pos = number.end()
            return Literal(json.loads(number.group()))
        keyword = re.compile(r"(true|false|null)(?![\w.$])").match(self.text, self.pos)
        if keyword:
            self.pos = keyword.end()
            return Literal(json.loads(keyword.group()))
        raise self.error("expected a 'string', a number, true, false, null, a $path or States.*(...)")

    def string(self) -> Literal:
        start = self.pos = self.pos + 1
        chars: list[str] = []
        while self.pos < len(self.text) and self.text[self.pos] != "'":
            char = self.text[self.pos]
            if char == "\\":
                escaped = self.text[self.pos + 1:self.pos + 2]
                if escaped not in ("'", "{", "}", "\\"):
                    raise self.error("a backslash must escape one of ' { } \\")
                char, self.pos = escaped, self.pos + 1
            chars.append(char)
            self.pos += 1
        if self.pos >= len(self.text):
            self.pos = start - 1
            raise self.error("unterminated string literal")
        self.pos += 1
        return Literal("".join(chars), raw=self.text[start:self.pos - 1])

    def path(self) -> PathArg:
        start, depth, quote = self.pos, 0, ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                quote = "" if char == quote else quote
                self.pos += 2 if char == "\\" else 1
                continue
            if char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])" and depth:
                depth -= 1
            elif char in ",)":
                break
            self.pos += 1
        path = self.text[start:self.pos].strip()
        try:
            jsonpath.compile_path(jsonpath.split_variable(path)[1])
        except jsonpath.PathError as error:
            self.pos = start
            raise self.error(f"invalid path argument ({error})") from None
        return PathArg(path)


# --------------------------------------------------------------------------------- evaluate

def evaluate(text: str, data: Any, scope: Scope, *, field: str | None = None) -> Any:
    """Run the intrinsic ``text`` against ``data`` (``$``) and ``scope.context`` (``$$``).

    ``field`` (e.g. ``"value.$"``) names the template field in path-not-found causes.
    Every problem, including a syntax error, is a :class:`Failure` carrying AWS's cause.
    """
    return compile_call(text, field=field)(data, scope)


Evaluation = Callable[[Any, Scope], Any]  # (data, scope) -> value


@functools.lru_cache(maxsize=1024)
def compile_call(text: str, *, field: str | None = None) -> Evaluation:
    """``evaluate(text, data, scope, field=field)`` as a function of (data, scope): the call
    tree parsed once into nested functions."""
    try:
        call = parse(text)
    except IntrinsicSyntaxError as error:
        message = str(error)

        def fail(data: Any, scope: Scope) -> Any:
            raise scope.runtime_failure(message)

        return fail
    return _compile(call, field)


def _compile(node: Any, field: str | None) -> Evaluation:
    if isinstance(node, Literal):
        value = node.value
        return lambda data, scope: value
    if isinstance(node, PathArg):
        path = node.path
        return jsonpath.compile_lookup(path, lambda data, scope: _path_value(path, data, scope, field))
    args = [_compile(arg, field) for arg in node.args]
    function = _FUNCTIONS[node.name]

    def run(data: Any, scope: Scope) -> Any:
        values = [arg(data, scope) for arg in args]
        try:
            return function(values, node, scope)
        except _Invalid:
            raise scope.runtime_failure(f"Invalid arguments in {node.name}") from None

    return run


def _path_value(path: str, data: Any, scope: Scope, field: str | None) -> Any:
    try:
        return jsonpath.resolve(path, data, scope)
    except jsonpath.NoMatch:
        where = f" specified for the field '{field}'" if field else ""
        message = f"The JSONPath '{path}'{where} could not be found in the input '{jsonpath.json_text(data)}'"
        raise scope.runtime_failure(message) from None


# -------------------------------------------------------------------------------- arguments

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _truncated(value: Any) -> int:
    """An integer argument; AWS drops any fraction (2.6 -> 2, -0.4 -> 0)."""
    if not _is_number(value) or isinstance(value, float) and not math.isfinite(value):
        raise _Invalid
    return int(value)


def _rounded(value: Any) -> int:
    """Java ``Math.round``: half rounds up (2.5 -> 3, -2.5 -> -2), unlike Python's round()."""
    if not _is_number(value) or isinstance(value, float) and not math.isfinite(value):
        raise _Invalid
    if isinstance(value, int):
        return value
    floor = math.floor(value)  # not floor(value + 0.5): that sum can round up on its own
    return floor + 1 if value - floor >= 0.5 else floor


def _typed(value: Any, kind: type) -> Any:
    if not isinstance(value, kind):
        raise _Invalid
    return value


def _text(value: Any) -> str:
    text = _typed(value, str)
    if len(text) > MAX_TEXT:
        raise _Invalid
    return text


# -------------------------------------------------------------------------------- functions

def _format(args: list, call: Call, scope: Scope) -> str:
    template = _typed(args[0], str)
    literal = call.args[0]
    # Escapes only exist in literals: "\{}" there is text, while a template read from a
    # path has no escape syntax, so every "{}" in it is a placeholder.
    pieces = _template_pieces(literal.raw if isinstance(literal, Literal) and literal.raw is not None else None, template)
    values = iter(args[1:])
    if pieces.count(None) != len(args) - 1:
        raise _Invalid
    return "".join(jsonpath.java_text(next(values)) if piece is None else piece for piece in pieces)


def _template_pieces(raw: str | None, template: str) -> list:
    """Text pieces with ``None`` where an argument goes."""
    if raw is None:
        parts = template.split("{}")
        return [piece for part in parts for piece in (None, part)][1:]
    pieces: list = []
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            pieces.append(raw[i + 1])
            i += 2
        elif raw.startswith("{}", i):
            pieces.append(None)
            i += 2
        else:
            pieces.append(raw[i])
            i += 1
    return pieces


def _string_to_json(args: list, call: Call, scope: Scope) -> Any:
    text = _typed(args[0], str)
    if not text.strip():
        return None  # AWS: "" and whitespace parse to null
    try:
        value = json.loads(text, parse_constant=_reject)
    except (ValueError, RecursionError):
        raise _Invalid from None
    if history.has_lone_surrogate(value):  # no UTF-8 for it: the history could not be stored
        raise _Invalid
    return value


def _reject(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _array_partition(args: list, call: Call, scope: Scope) -> list:
    items, size = _typed(args[0], list), _truncated(args[1])
    if size <= 0:
        raise _Invalid
    return [items[i:i + size] for i in range(0, len(items), size)]


def _array_range(args: list, call: Call, scope: Scope) -> list:
    start, end, step = (_truncated(a) for a in args)
    if step == 0:
        raise _Invalid
    count = max(0, (end - start) // step + 1)
    if count > MAX_RANGE:
        raise _Invalid
    return [start + i * step for i in range(count)]


def _array_get_item(args: list, call: Call, scope: Scope) -> Any:
    items, index = _typed(args[0], list), _truncated(args[1])
    if not items:
        return None  # observed: AWS answers null for any index into an empty array
    if not 0 <= index < len(items):
        raise _Invalid
    return items[index]


def _array_unique(args: list, call: Call, scope: Scope) -> list:
    unique: list = []
    for item in _typed(args[0], list):
        if not any(jsonpath.json_equal(item, seen) for seen in unique):
            unique.append(item)
    return unique


def _base64_decode(args: list, call: Call, scope: Scope) -> str:
    try:
        return base64.b64decode(_text(args[0]), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _Invalid from None


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(args: list, call: Call, scope: Scope) -> str:
    data = args[0] if isinstance(args[0], str) else jsonpath.json_text(args[0])
    algorithm = _HASHES.get(_typed(args[1], str))
    if algorithm is None or len(data) > MAX_TEXT:
        raise _Invalid
    return hashlib.new(algorithm, data.encode("utf-8")).hexdigest()


def _json_merge(args: list, call: Call, scope: Scope) -> dict:
    first, second, deep = _typed(args[0], dict), _typed(args[1], dict), args[2]
    if deep is not False:  # AWS supports shallow merging only
        raise _Invalid
    return {**first, **second}


def _math_random(args: list, call: Call, scope: Scope) -> int:
    start, end = _truncated(args[0]), _truncated(args[1])
    if start >= end:
        raise _Invalid
    if len(args) == 3:
        # a seed makes the number a pure function of (seed, start, end), as AWS promises
        digest = hashlib.sha256(f"{_truncated(args[2])}:{start}:{end}".encode()).digest()
        return start + int.from_bytes(digest[:8], "big") % (end - start)
    if scope.random is None:
        raise scope.runtime_failure("States.MathRandom needs a source of randomness; none was given")
    return scope.random.randrange(start, end)  # start inclusive, end exclusive


def _string_split(args: list, call: Call, scope: Scope) -> list:
    text, delimiters = _typed(args[0], str), _typed(args[1], str)
    # Every character of the second argument is a delimiter and empty pieces are dropped
    # (Java's StringTokenizer): "a,,b" -> ["a", "b"].
    if not delimiters:
        return [text] if text else []
    return [piece for piece in re.split("[" + re.escape(delimiters) + "]", text) if piece]


def _uuid(args: list, call: Call, scope: Scope) -> str:
    if scope.new_uuid is None:
        raise scope.runtime_failure("States.UUID needs a source of identifiers; none was given")
    return scope.new_uuid()


_Function = Callable[[list, Call, Scope], Any]
_FUNCTIONS: dict[str, _Function] = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": lambda args, call, scope: jsonpath.json_text(args[0]),
    "States.Array": lambda args, call, scope: list(args),
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": lambda args, call, scope: any(
        jsonpath.json_equal(item, args[1]) for item in _typed(args[0], list)
    ),
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": lambda args, call, scope: len(_typed(args[0], list)),
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": lambda args, call, scope: base64.b64encode(_text(args[0]).encode("utf-8")).decode("ascii"),
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": lambda args, call, scope: _rounded(args[0]) + _rounded(args[1]),
    "States.StringSplit": _string_split,
    "States.UUID": _uuid,
}

_ARITY: dict[str, tuple[int, int | None]] = {  # (fewest, most) arguments; None: no limit
    "States.Format": (1, None),
    "States.StringToJson": (1, 1),
    "States.JsonToString": (1, 1),
    "States.Array": (0, None),
    "States.ArrayPartition": (2, 2),
    "States.ArrayContains": (2, 2),
    "States.ArrayRange": (3, 3),
    "States.ArrayGetItem": (2, 2),
    "States.ArrayLength": (1, 1),
    "States.ArrayUnique": (1, 1),
    "States.Base64Encode": (1, 1),
    "States.Base64Decode": (1, 1),
    "States.Hash": (2, 2),
    "States.JsonMerge": (3, 3),
    "States.MathRandom": (2, 3),
    "States.MathAdd": (2, 2),
    "States.StringSplit": (2, 2),
    "States.UUID": (0, 0),
}
