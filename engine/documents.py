"""Reading the small JSON or YAML configuration files (sources, connections) with one error shape."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_document(path: str, what: str, error: type[Exception]) -> Any:
    """The document in ``path`` (JSON for ``.json``, else YAML); ``error`` says which ``what``
    file could not be read or parsed, and why."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as problem:
        raise error(f"{what} {path} cannot be read: {problem}") from None
    import yaml  # here, not at the top: PyYAML costs ~10 ms of CLI start-up when no such file is given

    try:
        return json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as problem:
        raise error(f"{what} {path} is not valid JSON/YAML: {problem}") from None
