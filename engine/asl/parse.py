"""Definition text -> a JSON document and the source line of every value in it.

A definition is JSON (what AWS takes) or YAML (what people like to write). ``load_text`` tries
JSON first and YAML second, and returns the document with a table mapping each JSON pointer
(``"/States/Foo/Next"``) to its 1-based source line, so that diagnostics can name a line.

JSON values come from :func:`json.loads` itself; a small scanner walks the same text a second
time to find the line of every key and array element and to reject duplicate keys, which
``json`` silently collapses and AWS refuses. YAML goes through PyYAML's composer, whose nodes
carry their marks; date-times stay strings (ASL compares timestamps as text).
"""
from __future__ import annotations

import json
import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.asl import history
from engine.errors import DefinitionError

if TYPE_CHECKING:
    import yaml

__all__ = ["Loaded", "DefinitionSyntaxError", "load_text", "load_file", "pointer"]


@dataclass(frozen=True)
class Loaded:
    """A loaded definition: the JSON document and the 1-based line of each JSON pointer."""

    document: Any
    lines: dict[str, int]


class DefinitionSyntaxError(DefinitionError):
    """Text that is neither valid JSON nor valid YAML; the message is ``FILE:LINE:COLUMN: problem``."""

    def __init__(self, filename: str, line: int, column: int, problem: str):
        super().__init__(f"{filename}:{line}:{column}: {problem}")
        self.filename, self.line, self.column, self.problem = filename, line, column, problem


def pointer(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """The RFC 6901 JSON pointer of a sequence of keys and indexes (``""`` is the root)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def load_file(path: str | Path) -> Loaded:
    """Read and load a definition file; unreadable files raise :class:`DefinitionError` too."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"{path}: cannot read the definition: {exc}") from exc
    return load_text(text, str(path))


def load_text(text: str, filename: str = "<string>") -> Loaded:
    """Parse definition text, JSON first and YAML second.

    Raises :class:`DefinitionError` naming the file, line and column of the first syntax
    error, or of a key repeated within one object.
    """
    if not text.strip():
        raise DefinitionSyntaxError(filename, 1, 1, "the definition is empty")
    try:
        document = json.loads(text)
        _refuse_lone_surrogates(document, filename, "JSON")
        return Loaded(document, _JsonLines(text, filename).scan())
    except json.JSONDecodeError as exc:
        if _looks_like_json(text):
            raise DefinitionSyntaxError(filename, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}") from exc
        return _load_yaml(text, filename)
    except RecursionError:
        raise DefinitionSyntaxError(filename, 1, 1, f"invalid JSON: {TOO_DEEP}") from None


TOO_DEEP = "the document is nested too deeply"
MAX_YAML_NODES = 262_144  # a definition within AWS's 1 MB limit holds fewer values than this


def _refuse_lone_surrogates(document: Any, filename: str, syntax: str) -> None:
    if history.has_lone_surrogate(document):  # an escape such as "\\ud800": no UTF-8 to store it in
        raise DefinitionSyntaxError(filename, 1, 1, f"invalid {syntax}: a string holds a lone surrogate")


def _looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


# --- JSON: a scanner that records lines and refuses duplicate keys -------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity")


class _JsonLines:
    """Walks JSON text that :func:`json.loads` already accepted; records each value's line."""

    def __init__(self, text: str, filename: str):
        self.text = text
        self.filename = filename
        self.lines: dict[str, int] = {}
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    def scan(self) -> dict[str, int]:
        self._value(self._skip(0), [])
        return self.lines

    def _line(self, index: int) -> int:
        return bisect_left(self._newlines, index) + 1

    def _column(self, index: int) -> int:
        line = self._line(index)
        start = self._newlines[line - 2] + 1 if line > 1 else 0
        return index - start + 1

    def _skip(self, index: int) -> int:
        return _WHITESPACE.match(self.text, index).end()

    def _value(self, index: int, parts: list) -> int:
        key = pointer(parts)
        self.lines.setdefault(key, self._line(index))
        char = self.text[index]
        if char == "{":
            return self._object(index + 1, parts)
        if char == "[":
            return self._array(index + 1, parts)
        if char == '"':
            return json.decoder.scanstring(self.text, index + 1)[1]
        return _SCALAR.match(self.text, index).end()

    def _object(self, index: int, parts: list) -> int:
        seen: set[str] = set()
        index = self._skip(index)
        if self.text[index] == "}":
            return index + 1
        while True:
            start = index
            name, index = json.decoder.scanstring(self.text, index + 1)
            if name in seen:
                raise DefinitionSyntaxError(
                    self.filename, self._line(start), self._column(start),
                    f"invalid JSON: duplicate key {name!r} in {pointer(parts) or 'the top-level object'}",
                )
            seen.add(name)
            self.lines[pointer(parts + [name])] = self._line(start)
            index = self._skip(self._skip(index) + 1)  # past the colon
            index = self._skip(self._value(index, parts + [name]))
            if self.text[index] == "}":
                return index + 1
            index = self._skip(index + 1)  # past the comma

    def _array(self, index: int, parts: list) -> int:
        index = self._skip(index)
        if self.text[index] == "]":
            return index + 1
        position = 0
        while True:
            index = self._skip(self._value(index, parts + [position]))
            if self.text[index] == "]":
                return index + 1
            index = self._skip(index + 1)
            position += 1


# --- YAML -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _loader_class() -> type:
    """SafeLoader without the timestamp resolver: date-times stay strings."""
    import yaml  # here, not at the top: PyYAML costs ~10 ms of start-up that JSON definitions never need

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return _Loader


def _load_yaml(text: str, filename: str) -> Loaded:
    import yaml  # loaded by _loader_class already

    loader = None
    try:
        loader = _loader_class()(text)  # the reader refuses control characters here already
        node = loader.get_single_node()
        if node is None:
            raise DefinitionSyntaxError(filename, 1, 1, "the definition is empty")
        lines: dict[str, int] = {}
        _yaml_lines(node, [], lines, filename, set(), [0])
        document = loader.construct_document(node)
        _refuse_lone_surrogates(document, filename, "YAML")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = ": ".join(part for part in (exc.context, exc.problem) if part)
        raise DefinitionSyntaxError(filename, line, column, f"invalid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise DefinitionSyntaxError(filename, 1, 1, f"invalid YAML: {exc}") from exc
    except RecursionError:
        raise DefinitionSyntaxError(filename, 1, 1, f"invalid YAML: {TOO_DEEP}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return Loaded(document, lines)


def _yaml_lines(node: yaml.Node, parts: list, lines: dict[str, int], filename: str,
                outer: set[int], count: list[int]) -> None:
    """Record lines; refuse an alias to a node that contains it (the document would be infinite)
    and aliases that multiply the document past what a definition can hold."""

    mark = node.start_mark
    if id(node) in outer:
        raise DefinitionSyntaxError(filename, mark.line + 1, mark.column + 1,
                                    "invalid YAML: an alias refers to a node that contains it")
    count[0] += 1
    if count[0] > MAX_YAML_NODES:
        raise DefinitionSyntaxError(filename, mark.line + 1, mark.column + 1,
                                    f"invalid YAML: aliases expand the definition past {MAX_YAML_NODES} values")
    lines.setdefault(pointer(parts), mark.line + 1)
    outer.add(id(node))  # the nodes that contain the one being walked
    try:
        _yaml_children(node, parts, lines, filename, outer, count)
    finally:
        outer.discard(id(node))


def _yaml_children(node: yaml.Node, parts: list, lines: dict[str, int], filename: str,
                   outer: set[int], count: list[int]) -> None:
    import yaml  # loaded by _loader_class already

    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                raise DefinitionSyntaxError(
                    filename, mark.line + 1, mark.column + 1, "invalid YAML: keys must be strings (quote the key)"
                )
            name = key_node.value
            if name in seen:
                raise DefinitionSyntaxError(
                    filename, mark.line + 1, mark.column + 1,
                    f"invalid YAML: duplicate key {name!r} in {pointer(parts) or 'the top-level mapping'}",
                )
            seen.add(name)
            lines[pointer(parts + [name])] = mark.line + 1
            _yaml_lines(value_node, parts + [name], lines, filename, outer, count)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _yaml_lines(item, parts + [position], lines, filename, outer, count)
