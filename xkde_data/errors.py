"""User-facing errors: one line, a location, exit code 2 (never a traceback)."""

from __future__ import annotations


class XkdeError(Exception):
    """A mistake in the user's input or invocation.

    The CLIs print ``str(error)`` on one line and exit with code 2. The location
    parts are optional; whatever is known is named (file, line or record, field).
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        record: int | str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.record = record
        self.field = field

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"{self.file}:{self.line}" if self.line is not None else str(self.file))
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def at(self, **location) -> "XkdeError":
        """Return a copy with missing location parts filled in."""
        merged = {k: getattr(self, k) for k in ("file", "line", "record", "field")}
        for key, value in location.items():
            if merged.get(key) is None:
                merged[key] = value
        return XkdeError(self.message, **merged)
