"""What the provider needs of a logger: stdlib and Airflow's structlog loggers both fit."""

from __future__ import annotations

from typing import Any, Protocol


class WarningLogger(Protocol):
    """A logger the retry policy and the waits can warn through (``self.log`` of hooks and tasks)."""

    def warning(self, msg: Any, /, *args: Any) -> Any: ...

    def debug(self, msg: Any, /, *args: Any) -> Any: ...
