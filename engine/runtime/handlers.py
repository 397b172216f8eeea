"""Python task handlers: registered explicitly with ``@task("name")``, never imported by name
from a definition. ``load`` imports the modules named on the command line (``--handlers``)."""
from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from pathlib import Path
from typing import Callable

Handler = Callable[..., object]

_registry: dict[str, Handler] = {}
_lock = threading.Lock()


def task(name: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the handler of ``name`` (also ``arn:aws:lambda:...:function:name``)."""
    if not isinstance(name, str) or not name:
        raise ValueError("task(name): name must be a non-empty string")

    def register(fn: Handler) -> Handler:
        with _lock:
            _registry[name] = fn
        return fn
    return register


def lookup(name: str) -> Handler | None:
    return _registry.get(name)


def registered() -> list[str]:
    return sorted(_registry)


def load(specs: list[str] | tuple[str, ...]) -> None:
    """Import each module (a dotted name or a ``.py`` path); importing registers its handlers."""
    for spec in specs:
        spec = spec.strip()
        if not spec:
            continue
        if spec.endswith(".py") or "/" in spec or spec.startswith("."):
            _load_file(Path(spec))
        else:
            importlib.import_module(spec)


def _load_file(path: Path) -> None:
    path = path.resolve()
    if not path.is_file():
        raise FileNotFoundError(f"--handlers {path}: no such file")
    name = "stepstone_handlers_" + "_".join(path.with_suffix("").parts[-3:]).replace("-", "_").replace(".", "_")
    if name in sys.modules:
        return
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    # a handler file may import its neighbours
    sys.path.insert(0, str(path.parent))
    try:
        module_spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
