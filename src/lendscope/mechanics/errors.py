"""The one root of every "the contract (or product) refuses this call" error in mechanics.

Each family keeps its own name for it, so callers can catch one family or all of them:
``AaveRevert``, ``CometRevert``, ``MorphoRevert``, ``MakerRevert`` and ``LiquityRevert`` all
subclass :class:`MechanicsRevert`, and so does :class:`MathOverflow`, the revert of the shared
integer fixed-point helpers in :mod:`lendscope.mechanics.intmath`. A model that raises one of these
leaves its state as it was, as the EVM discards a reverted transaction.

Bad *input* (a negative price, an unknown version, out-of-range parameters) is not a revert: it
raises :class:`ValueError` or :class:`TypeError` naming the argument. The off-chain products
(:mod:`lendscope.mechanics.offchain`) have no exception classes of their own; they raise
:class:`ValueError`.
"""

from __future__ import annotations


class MechanicsRevert(Exception):
    """The modelled contract would revert this call; ``args[0]`` names the failed check."""


class MathOverflow(MechanicsRevert, ArithmeticError):
    """The contract would revert: a result does not fit in uint256 or a divisor is zero."""
