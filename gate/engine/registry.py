"""The engines, listed by hand. The Click choice is built from `ENGINES`, so help, validation
and dispatch cannot drift. Modules are imported on use, so a run loads only its own engine."""

from __future__ import annotations

from enum import Enum
from importlib import import_module

from gate.engine.interface import Engine


class EngineName(str, Enum):
    """`--engine` choices."""

    EMBEDDED = "embedded"
    OPA = "opa"
    OPA_SERVER = "opa-server"


_IMPLEMENTATIONS: dict[EngineName, tuple[str, str]] = {
    EngineName.EMBEDDED: ("gate.engine.embedded", "EmbeddedEngine"),
    EngineName.OPA: ("gate.engine.opa", "OpaEngine"),
    EngineName.OPA_SERVER: ("gate.engine.opa_server", "OpaServerEngine"),
}

ENGINES: tuple[str, ...] = tuple(e.value for e in EngineName)


def get_engine(name: str, **options: object) -> Engine:
    """An engine instance by its `--engine` name; options go to its constructor."""
    module, cls = _IMPLEMENTATIONS[EngineName(name)]
    engine_cls = getattr(import_module(module), cls)
    instance: Engine = engine_cls(**options)
    return instance
