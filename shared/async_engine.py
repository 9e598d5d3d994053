"""SQLAlchemy's asyncio engine without its ORM session.

`sqlalchemy.ext.asyncio` is one package, and its `__init__` imports the ORM (`AsyncSession`,
`async_scoped_session`): ~40 ms, a tenth of a one-shot command, for code that uses Core only.
Importing this module registers the package with just its engine and result modules; the first
use of any other name the package exports runs its real `__init__`, so code that wants the ORM
still gets all of it. Import this before anything imports `sqlalchemy.ext.asyncio` (once the
whole package is loaded this does nothing).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import threading
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.abc import Loader

_PACKAGE = "sqlalchemy.ext.asyncio"

# What the package's `__init__` re-exports from its Core modules, module by module.
_CORE_EXPORTS = {
    "engine": (
        "async_engine_from_config",
        "AsyncConnection",
        "AsyncEngine",
        "AsyncTransaction",
        "create_async_engine",
        "create_async_pool_from_url",
    ),
    "result": ("AsyncMappingResult", "AsyncResult", "AsyncScalarResult", "AsyncTupleResult"),
}


def _complete_on_first_use(package: ModuleType, loader: Loader) -> None:
    lock = threading.RLock()  # a second thread waits for the first one's completion
    completed = False

    def __getattr__(name: str) -> object:  # noqa: N807 - the module attribute hook (PEP 562)
        nonlocal completed
        if importlib.machinery.PathFinder.find_spec(f"{_PACKAGE}.{name}", package.__path__):
            # A submodule not imported yet (`from . import exc`): the import system loads it.
            raise AttributeError(name)
        with lock:
            if not completed:
                completed = True
                loader.exec_module(package)  # the real __init__: the ORM names and the rest
                del package.__dict__["__getattr__"]
        try:
            return package.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {_PACKAGE!r} has no attribute {name!r}") from None

    package.__dict__["__getattr__"] = __getattr__


def _install() -> None:
    if _PACKAGE in sys.modules:
        return
    import sqlalchemy.ext  # noqa: PLC0415 - the parent package, loaded normally
    from sqlalchemy.util import concurrency  # noqa: PLC0415

    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot find {_PACKAGE}")
    package = importlib.util.module_from_spec(spec)
    _complete_on_first_use(package, spec.loader)
    sys.modules[_PACKAGE] = package
    try:
        for module_name, names in _CORE_EXPORTS.items():
            module = importlib.import_module(f"{_PACKAGE}.{module_name}")
            for name in names:
                if hasattr(module, name):  # else left to the real __init__
                    package.__dict__[name] = getattr(module, name)
        concurrency._concurrency_shim._initialize()  # as the real __init__ does: needs greenlet
    except BaseException:
        del sys.modules[_PACKAGE]
        raise
    sqlalchemy.ext.asyncio = package


_install()

from sqlalchemy.ext.asyncio import (  # noqa: E402 - after _install(), which it relies on
    AsyncConnection,
    AsyncEngine,
    create_async_engine,
)

__all__ = ["AsyncConnection", "AsyncEngine", "create_async_engine"]
