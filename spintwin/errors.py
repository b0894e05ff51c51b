"""User-facing errors: the CLI prints them as one line and exits non-zero."""

__all__ = ["SpintwinError"]


class SpintwinError(Exception):
    """A user error (bad config, missing tool or dataset): reported as one clear line."""
