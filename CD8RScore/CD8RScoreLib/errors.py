"""The one exception type for bad input: the CLI turns it into one line on stderr and exit code 2."""


class InputError(Exception):
    """Bad input that the user can fix. The message names the file, the row/field and what is wrong."""

    def __init__(self, message: str, path: "str | None" = None, field: "str | None" = None):
        self.path = str(path) if path is not None else None
        self.field = field
        parts = []
        if self.path:
            parts.append(self.path)
        if field:
            parts.append(field)
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
