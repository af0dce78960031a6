"""Every adapter module that declares MongoDB indexes is in the app's explicit list (nothing registers itself)."""

from __future__ import annotations

import importlib
import pkgutil

import chatserver.adapters
from chatserver.adapters.indexes import DECLARED


def test_every_module_with_indexes_is_listed() -> None:
    declaring = []
    for info in pkgutil.iter_modules(chatserver.adapters.__path__):
        module = importlib.import_module(f"chatserver.adapters.{info.name}")
        indexes = getattr(module, "INDEXES", None)
        if isinstance(indexes, dict):
            declaring.append((info.name, indexes))
    assert declaring, "no adapter declares indexes"
    missing = [name for name, indexes in declaring if not any(indexes is listed for listed in DECLARED)]
    assert not missing, f"add to chatserver/adapters/indexes.py: {missing}"
    assert all(indexes for _name, indexes in declaring)
