"""An event as EventBridge's matcher sees it: ``path -> [(value, key, membership)]``.

Paths are the object keys joined with ``.`` (so ``{"a": {"b": 1}}`` and ``{"a.b": 1}`` both give
``a.b``); arrays add no step, their elements all sit at the array's path. Only leaves (strings,
numbers, booleans, null) are values: an object or an empty array at a path means the path is absent.

``key`` is the value's identity for exact matching (:func:`value_key`), ``membership`` the tuple of
``(array id, index)`` of every array the value sits in: AWS matches several fields of one rule only
against values that can come from the same array element (event-ruler's array consistency).

Pure: no I/O.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any, Collection

FIVE_BILLION = 5e9
_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")

Flat = dict  # path -> list[tuple[value, key, membership]]


def comparable(number: float) -> int | None:
    """AWS's numeric form: -5e9..5e9, six digits after the point; None outside that range."""
    if type(number) is int and not -FIVE_BILLION <= number <= FIVE_BILLION:
        return None  # float() of a huge JSON integer would overflow
    number = float(number)
    if number < -FIVE_BILLION or number > FIVE_BILLION or number != number:
        return None
    return int(1e6 * (FIVE_BILLION + number))


def ip_address(text: str) -> tuple[int, int] | None:
    """``(version, integer)`` when ``text`` is an IP literal as event-ruler reads one, else None."""
    try:
        if _IPV4.fullmatch(text):
            parts = [int(part) for part in text.split(".")]
            if any(part > 255 for part in parts):
                return None
            return 4, (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
        if _IPV6.fullmatch(text):
            address = ipaddress.IPv6Address(text)
            if address.ipv4_mapped is not None:  # Java answers an IPv4 address for these
                return 4, int(address.ipv4_mapped)
            return 6, int(address)
    except ValueError:
        return None
    return None


def value_key(value: Any) -> tuple:
    """The identity exact matching compares: numbers by AWS's numeric form, IP literals by address."""
    if value is None:
        return ("z",)
    if value is True or value is False:
        return ("b", value)
    if isinstance(value, str):
        if ("." in value or ":" in value) and value[:1] in "0123456789abcdefABCDEF:":
            address = ip_address(value)
            if address is not None:
                return ("ip",) + address
        return ("s", value)
    if isinstance(value, (int, float)):
        number = comparable(value)
        return ("n", number) if number is not None else ("N", value)
    return ("?", repr(value))


def wanted_paths(paths: Collection[str]) -> set[str]:
    """The paths plus every dotted prefix of them: where flattening has to look."""
    wanted: set[str] = set()
    for path in paths:
        wanted.add(path)
        index = path.find(".")
        while index != -1:
            wanted.add(path[:index])
            index = path.find(".", index + 1)
    return wanted


def flatten(event: Any, wanted: Collection[str] | None = None) -> Flat:
    """``path -> [(value, key, membership)]`` for every leaf; only under ``wanted`` paths if given."""
    out: Flat = {}
    counter = [0]

    def walk(node: Any, path: str, membership: tuple) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                child_path = f"{path}.{name}" if path else name
                if wanted is None or child_path in wanted:
                    walk(child, child_path, membership)
        elif isinstance(node, list):
            counter[0] += 1
            array = counter[0]
            for index, child in enumerate(node):
                walk(child, path, membership + ((array, index),))
        elif path:
            entry = (node, value_key(node), membership)
            values = out.get(path)
            if values is None:
                out[path] = [entry]
            else:
                values.append(entry)

    walk(event, "", ())
    return out
