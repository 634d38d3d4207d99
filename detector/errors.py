"""The one error type users can fix: bad input, missing options, unknown ids."""

from __future__ import annotations

from pathlib import Path


class DetectorError(Exception):
    """An error the user can fix, with where it happened and what would fix it.

    Parameters
    ----------
    message : what is wrong, in words ("expected a date like 2024-05-01T12:00:00Z, got 'soon'").
    path : the input file at fault, if any. Only its name is shown, never the full local path.
    line : the line number (1-based) or message id inside that file.
    hint : what to do about it ("pass --tz Asia/Almaty").
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | str | None = None,
                 hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.hint = hint

    def where(self) -> str:
        if self.path is None:
            return ""
        name = Path(self.path).name or self.path
        return f"{name}:{self.line}" if self.line is not None else name

    def __str__(self) -> str:
        where = self.where()
        text = f"{where}: {self.message}" if where else self.message
        return f"{text} ({self.hint})" if self.hint else text
