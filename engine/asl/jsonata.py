"""JSONata expressions as Step Functions evaluates them (``"{% ... %}"`` field values).

Wraps the pure-Python ``jsonata-python`` library. An expression is compiled once and cached;
each evaluation binds:

* ``$states``: ``input``, ``context`` and, where the field allows it, ``result`` and
  ``errorOutput`` (the caller passes the members the field may see);
* every workflow variable visible to the state (``$name``);
* AWS's extension functions (``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid``,
  ``$parse``) and ``$now``/``$millis`` read from the step's time. Randomness and identifiers
  come from the :class:`Scope`, never from a global source, so replays give the same values.
  ``$eval`` is refused, as AWS refuses it.

Every problem is a :class:`Failure` ``States.QueryEvaluationError`` whose cause reads like
AWS's and whose ``location`` names the field (``Output/result``) for the EvaluationFailed event.
"""
from __future__ import annotations

import hashlib
import json
import sys
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from engine.asl import history
from engine.asl.failures import QUERY_EVALUATION_ERROR, Failure
from engine.asl.scope import Scope

if TYPE_CHECKING:
    from jsonata import Jsonata

_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
REFUSED_FUNCTIONS = ("eval",)  # AWS does not offer $eval
MAX_RANGE = 1000  # AWS's limit on the items $range may produce (as for States.ArrayRange)


@lru_cache(maxsize=1)
def _library() -> SimpleNamespace:
    """The jsonata-python library (this module is engine.asl.jsonata), imported on first use:
    ~12 ms of start-up (``stepstone run``) that a definition without JSONata never needs."""
    limit = sys.getrecursionlimit()
    from jsonata import Jsonata, functions, jexception, utils
    # the library raises the process's recursion limit to 10,000 on import; keep ours, so that
    # data nested too deeply fails as early (and as cheaply) whether or not JSONata was loaded
    sys.setrecursionlimit(limit)
    # null: JSONata null; Python None means "undefined" to the library
    return SimpleNamespace(Jsonata=Jsonata, functions=functions, JException=jexception.JException,
                           Utils=utils.Utils, null=utils.Utils.NULL_VALUE)


class JSONataSyntaxError(ValueError):
    """An expression the library cannot parse: ``code: message``."""


def is_expression(value: Any) -> bool:
    """``"{% ... %}"`` exactly: AWS keeps ``" {% x %} "`` (leading space) as a plain string."""
    return isinstance(value, str) and len(value) >= 4 and value.startswith("{%") and value.endswith("%}")


def expression_text(value: str) -> str:
    """The expression between ``{%`` and ``%}``, as AWS quotes it in causes."""
    return value[2:-2].strip()


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> Jsonata:
    """The parsed expression (cached: definitions are immutable, so are their expressions)."""
    library = _library()
    try:
        compiled = library.Jsonata(text)
    except library.JException as error:
        raise JSONataSyntaxError(f"{error.error}: {error}") from None
    if compiled.errors:
        raise JSONataSyntaxError(str(compiled.errors[0]))
    compiled.set_output_convert_nulls(False)  # keep null and undefined apart
    return compiled


def states_binding(scope: Scope, input_value: Any, **members: Any) -> dict:
    """The ``$states`` object: ``input``, ``context`` and the given members (result, errorOutput)."""
    return {"input": input_value, "context": scope.context, **members}


def evaluate(value: str, states: dict, scope: Scope, location: str) -> Any:
    """Evaluate the ``"{% ... %}"`` string ``value`` of the field at ``location``."""
    text = expression_text(value)
    library = _library()
    try:
        compiled = compile_expression(text)
        raw = compiled.evaluate(None, _bindings(states, scope))
    except Failure:
        raise
    except library.JException as error:
        raise _failure(scope, text, location, f"threw an error during evaluation. {error.error}: {error}")
    except JSONataSyntaxError as error:
        raise _failure(scope, text, location, f"threw an error during evaluation. {error}")
    except (ArithmeticError, RecursionError, TypeError, ValueError, AttributeError) as error:
        raise _failure(scope, text, location, f"threw an error during evaluation. {error}")
    if raw is None:
        raise _failure(scope, text, location, "returned nothing (undefined).")
    try:
        return _plain(raw)
    except _Unsupported:
        raise _failure(scope, text, location, "returned an unsupported result type.") from None


def render(template: Any, states: dict, scope: Scope, location: str) -> Any:
    """A JSONata-mode template (Arguments, Output, Assign, ItemSelector ...): every string that
    is a whole ``{% %}`` expression is evaluated, anything else is copied as it is."""
    if is_expression(template):
        return evaluate(template, states, scope, location)
    if isinstance(template, dict):
        return {key: render(item, states, scope, f"{location}/{key}") for key, item in template.items()}
    if isinstance(template, list):
        return [render(item, states, scope, f"{location}/{index}") for index, item in enumerate(template)]
    return template


def type_name(value: Any) -> str:
    """JSONata's name of a JSON value's type, as AWS prints it in result-type causes."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def unexpected_type(scope: Scope, value: str, location: str, expected: str, got: Any) -> Failure:
    """The cause AWS gives when an expression's value has the wrong type for its field."""
    shown = json.dumps(got, separators=(",", ":"), ensure_ascii=False)
    return _failure(scope, expression_text(value), location,
                    f"returned an unexpected result type. Expected '{expected}', "
                    f"but was '{type_name(got)}' for value: {shown}")


def query_failure(scope: Scope, message: str, location: str | None = None) -> Failure:
    """A States.QueryEvaluationError with AWS's cause prefix."""
    return Failure(QUERY_EVALUATION_ERROR, scope.prefix() + message, location)


def _failure(scope: Scope, text: str, location: str, problem: str) -> Failure:
    return query_failure(scope, f"The JSONata expression '{text}' specified for the field '{location}' {problem}",
                         location)


# --- bindings ------------------------------------------------------------------------------
def _bindings(states: dict, scope: Scope) -> dict:
    null = _library().null
    bound: dict[str, Any] = {name: null if item is None else item
                             for name, item in (scope.variables or {}).items()}
    bound.update(_extensions(scope))
    bound["states"] = states
    return bound


def _extensions(scope: Scope) -> dict:
    library = _library()
    lam = library.Jsonata.JLambda
    return {
        "partition": lam(_partition),
        "range": lam(_range),
        "hash": lam(_hash),
        "random": lam(lambda seed=None: _random(scope, seed)),
        "uuid": lam(lambda: _uuid(scope)),
        "parse": lam(_parse),
        "now": lam(lambda picture=None, zone=None: library.functions.Functions.datetime_from_millis(
            _millis(scope), picture, zone)),
        "millis": lam(lambda: _millis(scope)),
        **{name: lam(_refused) for name in REFUSED_FUNCTIONS},
    }


def _refused(*_args: Any) -> Any:
    # fails as calling any name that is not a function does (AWS offers no $eval)
    raise _library().JException("T1006", 0)


def _partition(items: Any = None, size: Any = None) -> list:
    items = _plain(items)
    if not isinstance(items, list) or not _is_int(size) or size <= 0:
        raise ValueError("$partition expects an array and a positive integer")
    size = int(size)
    return [items[i:i + size] for i in range(0, len(items), size)]


def _range(start: Any = None, end: Any = None, step: Any = None) -> Any:
    if not (_is_int(start) and _is_int(end) and _is_int(step)) or step == 0:
        raise ValueError("$range expects integers start, end and a non-zero step")
    start, end, step = int(start), int(end), int(step)
    count = max(0, (end - start) // step + 1)
    if count > MAX_RANGE:
        raise ValueError(f"$range may produce at most {MAX_RANGE} items")
    # a sequence, as JSONata's own array functions give: one item is that item, none is undefined
    return _library().Utils.create_sequence_from_iter(start + i * step for i in range(count))


def _hash(data: Any = None, algorithm: Any = None) -> str:
    name = _HASHES.get(algorithm) if isinstance(algorithm, str) else None
    if not isinstance(data, str) or name is None:
        raise ValueError(f"$hash expects a string and one of {', '.join(_HASHES)}")
    return hashlib.new(name, data.encode("utf-8")).hexdigest()


def _random(scope: Scope, seed: Any = None) -> float:
    if seed is not None and seed is not _library().null:
        # a seed makes the number a pure function of it, so a seeded call repeats its value
        digest = hashlib.sha256(json.dumps(_plain(seed)).encode()).digest()
        return int.from_bytes(digest[:7], "big") / float(1 << 56)
    if scope.random is None:
        raise ValueError("$random needs a source of randomness; none was given")
    return scope.random.random()


def _uuid(scope: Scope) -> str:
    if scope.new_uuid is None:
        raise ValueError("$uuid needs a source of identifiers; none was given")
    return scope.new_uuid()


def _parse(text: Any = None) -> Any:
    if not isinstance(text, str):
        raise ValueError("$parse expects a string holding JSON")
    parsed = json.loads(text)
    if history.has_lone_surrogate(parsed):  # no UTF-8 for it: the history could not be stored
        raise ValueError("$parse: the JSON holds a lone surrogate")
    return _library().null if parsed is None else parsed


def _millis(scope: Scope) -> int:
    if scope.now is None:
        raise ValueError("$now and $millis need the step's time; none was given")
    return int(round(scope.now * 1000))


# --- results -------------------------------------------------------------------------------
class _Unsupported(Exception):
    """A value JSON cannot hold (a function)."""


def _plain(value: Any) -> Any:
    """A library value as plain JSON data: its null as None, sequences as lists."""
    return _plain_in(value, _library().null)


def _plain_in(value: Any, null: Any) -> Any:
    if value is null or value is None:
        return None
    # inside containers None is JSON null (input data holds plain None), never "undefined"
    if isinstance(value, dict):
        return {key: _plain_in(item, null) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_in(item, null) for item in value]
    if isinstance(value, (str, int, float, bool)):
        return value
    raise _Unsupported(type(value).__name__)


def _is_int(value: Any) -> bool:
    if isinstance(value, float) and value.is_integer():
        return True
    return isinstance(value, int) and not isinstance(value, bool)
