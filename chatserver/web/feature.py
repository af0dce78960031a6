"""What a feature module hands the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.routing import BaseRoute

Hook = Callable[[], Awaitable[None]]


@dataclass
class Feature:
    routes: list[BaseRoute] = field(default_factory=list)
    startup: list[Hook] = field(default_factory=list)
    shutdown: list[Hook] = field(default_factory=list)
