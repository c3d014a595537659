"""The one error type users see: a message they can act on, printed as one line, never a traceback."""


class TidewaterError(Exception):
    """A failure with a message that says what went wrong and where."""
