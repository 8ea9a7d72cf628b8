"""Products modelled from their terms, not from bytecode, in exact Decimal arithmetic; float twins.

Modules: :mod:`.decimal_math` (the :data:`~.decimal_math.EXACT` context and input checks shared
by the products), :mod:`.otc` (CeFi OTC loans on an LTV ladder), :mod:`.prime_brokerage`
(cross-margin accounts), :mod:`.private_credit` (pools with first-loss cover), :mod:`.perps`
(isolated-margin DEX perps) and :mod:`.twin` (vectorised float64 twins). This package exports the
names the risk engine uses; everything else is imported from its module.
"""

from lendscope.mechanics.offchain.otc import LtvLadder, OtcLoan
from lendscope.mechanics.offchain.twin import liquidation_vec, partial_sale_vec, top_up_vec

__all__ = ["LtvLadder", "OtcLoan", "liquidation_vec", "partial_sale_vec", "top_up_vec"]
