"""Liquity v1: troves, recovery mode, liquidation and redemptions with the contracts' math.

Modules: :mod:`.troves` (``LiquityMath``, :class:`TroveManager`). Liquity has no float twins yet:
the risk engine does not model it. This package exports the trove manager and its revert;
everything else is imported from :mod:`.troves`.
"""

from lendscope.mechanics.liquity.troves import LiquityRevert, TroveManager

__all__ = ["LiquityRevert", "TroveManager"]
