"""The access keys the API accepts: a file (``STEPSTONE_ACCESS_KEYS_FILE``, ``--access-keys``) and/or
one pair from the environment (``STEPSTONE_ACCESS_KEY_ID`` + ``STEPSTONE_SECRET_ACCESS_KEY``).

The file is JSON or YAML, either a mapping or a list::

    AKIAEXAMPLE1: "secret one"           # access key id: secret access key

    - {access_key_id: AKIAEXAMPLE1, secret_access_key: "secret one"}

Read once at start-up; any problem is an AccessKeysError naming the file (or variable) and what is
wrong, so ``serve`` stops before it listens.
"""
from __future__ import annotations

from typing import Any

from engine.documents import read_document
from engine.settings import Settings

FILE_WHAT = "access keys file"


class AccessKeysError(ValueError):
    """The access keys cannot be read or an entry is invalid; the message names which."""


def load(settings: Settings) -> dict[str, str]:
    """Access key id -> secret access key, from the file and the environment pair (none: {})."""
    keys: dict[str, str] = {}
    if settings.access_keys_file:
        keys.update(load_file(settings.access_keys_file))
    if settings.access_key_pair:
        key_id, secret = settings.access_key_pair
        if not (key_id and secret):
            raise AccessKeysError("STEPSTONE_ACCESS_KEY_ID and STEPSTONE_SECRET_ACCESS_KEY go "
                                  "together: set both or neither")
        if keys.get(key_id, secret) != secret:
            raise AccessKeysError(f"access key {key_id} has one secret in STEPSTONE_SECRET_ACCESS_KEY "
                                  f"and another in {settings.access_keys_file}")
        keys[key_id] = secret
    return keys


def load_file(path: str) -> dict[str, str]:
    document = read_document(path, FILE_WHAT, AccessKeysError)
    where = f"{FILE_WHAT} {path}"
    if isinstance(document, dict):
        pairs = list(document.items())
    elif isinstance(document, list):
        pairs = [_list_entry(entry, index, where) for index, entry in enumerate(document)]
    else:
        raise AccessKeysError(f"{where} must hold a mapping of access key id to secret access key, "
                              "or a list of {access_key_id, secret_access_key}; it holds "
                              f"{type(document).__name__ if document is not None else 'nothing'}")
    if not pairs:
        raise AccessKeysError(f"{where} holds no access keys")
    keys: dict[str, str] = {}
    for key_id, secret in pairs:
        if not (_text(key_id) and _text(secret)):
            raise AccessKeysError(f"{where}: access key {key_id!r}: the id and the secret must be "
                                  "non-empty strings")
        if key_id in keys:
            raise AccessKeysError(f"{where}: access key {key_id} appears twice")
        keys[key_id] = secret
    return keys


def _list_entry(entry: Any, index: int, where: str) -> tuple[Any, Any]:
    if not isinstance(entry, dict) or set(entry) != {"access_key_id", "secret_access_key"}:
        # name the fields found, never the values: one of them may be a secret
        found = sorted(map(str, entry)) if isinstance(entry, dict) else type(entry).__name__
        raise AccessKeysError(f"{where}: entry {index} must have exactly access_key_id and "
                              f"secret_access_key, not {found}")
    return entry["access_key_id"], entry["secret_access_key"]


def _text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() == value and bool(value)
