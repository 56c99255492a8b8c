"""Import one of the project's scripts (files outside the handoff package) by its path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load(path: Path, name: str) -> ModuleType:
    """Import the file at ``path`` as module ``name``; its own folder is importable too."""
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))  # e.g. the demo's app.py imports http_loop.py
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
