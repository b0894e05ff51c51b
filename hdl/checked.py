"""Components that refuse a bad configuration before they exist.

Amaranth warns (``UnusedElaboratable``) about every Elaboratable that is never elaborated, and
an object whose ``__init__`` raised is one of them: the warning would follow every refused
configuration. A :class:`CheckedComponent` runs its :meth:`~CheckedComponent.check` (a
classmethod over the constructor's own arguments) in ``__new__``, before the object is made,
so a refused configuration is a ValueError and nothing else. ``hdl.crossbar.CrossbarTile`` and
``hdl.core.SnnCore`` follow the same rule.
"""

from __future__ import annotations

from amaranth.lib import wiring

__all__ = ["CheckedComponent"]


class CheckedComponent(wiring.Component):
    """A ``wiring.Component`` whose arguments are checked before the object exists.

    Subclasses override :meth:`check`. Whatever it returns (for example a schedule computed
    while checking) is ``self.checked`` when ``__init__`` runs, so the work is not repeated.
    """

    @classmethod
    def check(cls, *args, **kwargs):
        """Raise ValueError (one line) for arguments the constructor refuses; called with the
        constructor's arguments. Returns what ``__init__`` finds in ``self.checked`` (default None)."""
        return None

    def __new__(cls, *args, src_loc_at: int = 0, **kwargs):
        checked = cls.check(*args, **kwargs)
        self = super().__new__(cls, *args, src_loc_at=src_loc_at + 1, **kwargs)
        self.checked = checked
        return self
