"""Lending products modelled with the protocols' own math: one subpackage per product family.

Families (each ``__init__`` exports the small public API the risk engine, the command line and the
on-chain readers use; everything else is imported from the module that defines it):

- :mod:`.aave_v3`: Aave v3.0 and v3.6 pools and liquidation (Spark and other forks as parameters);
- :mod:`.compound_v3`: Compound v3 (Comet) base markets, ``absorb`` and ``buyCollateral``;
- :mod:`.morpho_blue`: Morpho Blue markets and the AdaptiveCurveIrm;
- :mod:`.maker`: Maker/Sky dss (Vat, Jug, Spotter, Dog, Clipper and the abaci price curves);
- :mod:`.liquity`: Liquity v1 troves, recovery mode and redemptions;
- :mod:`.offchain`: products with no contract to port: CeFi OTC loans, prime-brokerage margin,
  private-credit pools and isolated-margin perps.

Shared modules: :mod:`.errors` (:class:`~.errors.MechanicsRevert`, the root of every family's
revert: ``AaveRevert``, ``CometRevert``, ``MorphoRevert``, ``MakerRevert``, ``LiquityRevert``, and
:class:`~.errors.MathOverflow`), :mod:`.intmath` (Solidity-style integer fixed point: WAD, RAY,
bps, mulDiv, with uint256 checks) and :mod:`.rates` (the rate models behind ``lendscope rates``).

Exact and float code: the exact models (integers for contract ports, :class:`~decimal.Decimal`
for :mod:`.offchain`) live in each family's concern modules under plain names (``health_factor``,
``liquidate``). Every vectorised NumPy float64 twin of them lives in the family's ``twin`` module
and ends in ``_vec`` (``aave_v3.twin.health_factor_vec``); twins skip integer rounding and match
the exact results to float precision away from rounding thresholds.
"""
