"""User-facing errors: the CLI prints them as one line and exits non-zero."""

__all__ = ["SpintwinError"]


class SpintwinError(Exception):
    """A user error (bad config, missing tool or dataset): reported as one clear line."""


def json_cli(compute, user_errors=(ValueError, TypeError, FileNotFoundError)) -> int:
    """Run ``compute()`` for a module's command line: print its result as JSON and return 0, or
    print one ``error: ...`` line to stderr and return 2 on a user error (``user_errors`` or
    :class:`SpintwinError`, e.g. a missing data set). Other exceptions propagate."""
    import json
    import sys

    try:
        res = compute()
    except (SpintwinError, *user_errors) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(res, indent=1))
    return 0
