"""User-facing errors: the CLI prints them as one line and exits with the kind's own status.

Exit statuses of the ``spintwin`` command (README "Exit status"):

====  =====================================================================================
0     success (for ``verify``: the RTL and the integer model agree bit for bit)
1     ``verify``: MISMATCH, a real difference between the model and the RTL
      (:class:`MismatchError`); ``synth``: the design does not fit the target
2     a user error: bad config, argument, path, missing data set (:class:`SpintwinError`)
3     a tool or simulator failed, so there is no verdict (:class:`ToolFailure`)
130   interrupted (Ctrl-C)
====  =====================================================================================
"""

__all__ = ["SpintwinError", "MismatchError", "ToolFailure", "json_cli"]


class SpintwinError(Exception):
    """A user error (bad config, missing tool or dataset): reported as one clear line."""

    #: The CLI's exit status for this kind of error.
    exit_code = 2
    #: The word the CLI prints before the message.
    label = "error"


class MismatchError(SpintwinError, AssertionError):
    """The RTL and its integer model differ: the message names the first differing cycle (or
    beat, image, step), lane or position and field, with both values. Only a real difference
    between model and RTL is reported so; a crash, timeout or tool failure is a
    :class:`ToolFailure`. Also an AssertionError, so pytest reports it as a failed check."""

    exit_code = 1
    label = "MISMATCH"


class ToolFailure(SpintwinError, RuntimeError):
    """A simulator, compiler or EDA tool failed (crash, timeout, build error, lost files):
    the run gave no verdict on the design. Also a RuntimeError."""

    exit_code = 3
    label = "tool failure"


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
