"""The Digitale Reflectietafel: roll-up of the counters into aggregates, the dashboards' questions, and the
suppressed (optionally noisy) releases of what leaves the backoffice. See docs/decisions/0024."""

from chatserver.services.reflectie.release import Release, ReleaseRow
from chatserver.services.reflectie.service import ReflectieService, ReflectieSettings

__all__ = ["ReflectieService", "ReflectieSettings", "Release", "ReleaseRow"]
