"""Vectorised float64 twins of the off-chain products, for the risk engine's large books.

Same formulas as the exact :class:`~decimal.Decimal` models in :mod:`.otc` (OTC loans),
:mod:`.prime_brokerage` (margin accounts), :mod:`.private_credit` (pool share price) and
:mod:`.perps` (isolated-margin perps), without quantum rounding; arrays broadcast, and every twin
matches the unrounded exact result to 1e-9 relative. Inputs are array-likes (:data:`A`), converted
by :func:`f64`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lendscope.mechanics.offchain.otc import Compounding

FloatArray = npt.NDArray[np.float64]
A = npt.ArrayLike


def f64(x: A) -> FloatArray:
    """``x`` as a float64 array (the twins' common input conversion)."""
    return np.asarray(x, dtype=np.float64)


# ---- OTC loans (:mod:`.otc`) ---------------------------------------------------------------------


def accrued_interest_vec(
    principal: A, apr: A, t_days: A, compounding: str = "simple"
) -> FloatArray:
    """Twin of :meth:`.otc.OtcLoan.accrued_interest`."""
    p, r, t = f64(principal), f64(apr), f64(t_days)
    if Compounding(compounding) is Compounding.SIMPLE:
        return p * r * t / 365.0
    return p * np.expm1(t * np.log1p(r / 365.0))  # expm1/log1p: no cancellation for small r*t


def ltv_vec(debt: A, collateral: A, price: A) -> FloatArray:
    """Twin of :meth:`.otc.OtcLoan.ltv` (``inf`` where collateral is 0)."""
    with np.errstate(divide="ignore"):
        return f64(debt) / (f64(collateral) * f64(price))


def status_vec(ltv: A, margin_call: A, liquidation: A) -> npt.NDArray[np.int64]:
    """Ladder state codes: 0 healthy, 1 margin call, 2 liquidation."""
    x = f64(ltv)
    return np.where(x >= f64(liquidation), 2, np.where(x >= f64(margin_call), 1, 0))


def top_up_vec(debt: A, collateral: A, price: A, initial_ltv: A) -> FloatArray:
    """Twin of :meth:`.otc.OtcLoan.top_up` (unrounded)."""
    return np.maximum(0.0, f64(debt) / (f64(initial_ltv) * f64(price)) - f64(collateral))


def partial_sale_vec(
    debt: A, collateral: A, price: A, initial_ltv: A, slippage: A = 0.0
) -> FloatArray:
    """Twin of ``OtcLoan.partial_sale(...).collateral_sold``; ``inf`` where a sale cannot cure."""
    d, c, p, l0, h = (f64(a) for a in (debt, collateral, price, initial_ltv, slippage))
    excess, denom = d - l0 * c * p, p * (1.0 - h - l0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(excess <= 0, 0.0, np.where(denom > 0, excess / denom, np.inf))
    return np.where(s >= c, np.inf, s)


def liquidation_vec(
    debt: A, collateral: A, price: A, slippage: A = 0.0, haircut: A = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Twin of :meth:`.otc.OtcLoan.liquidate`: ``(shortfall, lgd)``."""
    d = f64(debt)
    proceeds = f64(collateral) * f64(price) * (1.0 - f64(slippage) - f64(haircut))
    shortfall = np.maximum(0.0, d - proceeds)
    return shortfall, shortfall / d


# ---- prime brokerage (:mod:`.prime_brokerage`) ---------------------------------------------------


def margin_vec(
    cash: A, quantities: A, prices: A, initial: A, maintenance: A
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Twin of :meth:`.prime_brokerage.MarginAccount.mark` per account: ``(E, G, IM, MM)``.

    Arrays are (accounts, assets), summed over assets. Equity is a sum of signed values, so its
    float error is relative to gross value ``G``.
    """
    value = f64(quantities) * f64(prices)
    gross = np.abs(value)
    im, mm = (gross * f64(initial)).sum(axis=-1), (gross * f64(maintenance)).sum(axis=-1)
    return f64(cash) + value.sum(axis=-1), gross.sum(axis=-1), im, mm


def forced_close_fraction_vec(equity: A, gross: A, im: A, mm: A, slippage: A = 0.0) -> FloatArray:
    """Twin of ``prime_brokerage.MarginAccount.forced_close(...).fraction``."""
    e, g, i, m, s = (f64(a) for a in (equity, gross, im, mm, slippage))
    denom = i - s * g
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(denom > 0, np.minimum((i - e) / denom, 1.0), 1.0)
    return np.where(e >= m, 0.0, f)


# ---- private credit (:mod:`.private_credit`) -----------------------------------------------------


def lender_loss_vec(loss: A, cover_free: A) -> FloatArray:
    """Loss reaching lenders after first-loss cover: ``max(0, loss - cover)``."""
    return np.maximum(0.0, np.asarray(loss, np.float64) - np.asarray(cover_free, np.float64))


def share_price_after_loss_vec(nav: A, shares: A, cover_free: A, loss: A) -> FloatArray:
    """Float64 twin of :func:`.private_credit.share_price_after_loss` (scenarios broadcast)."""
    n, s = np.asarray(nav, np.float64), np.asarray(shares, np.float64)
    return (n - lender_loss_vec(loss, cover_free)) / s


# ---- perps (:mod:`.perps`) -----------------------------------------------------------------------


def liquidation_price_vec(
    side: A,
    size: A,
    entry: A,
    leverage: A,
    mmr: A,
    open_fee_rate: A = 0.0,
    close_fee_rate: A = 0.0,
    funding_paid: A = 0.0,
) -> FloatArray:
    """Twin of :meth:`.perps.PerpPosition.liquidation_price`; ``side`` is +1 long / -1 short."""
    sd, e, fc = f64(side), f64(entry), f64(close_fee_rate)
    m = e / f64(leverage) - f64(open_fee_rate) * e - f64(funding_paid) / f64(size)
    long_p = np.maximum(0.0, (e - m) / (1.0 - f64(mmr) - fc))
    short_p = (e + m) / (1.0 + f64(mmr) + fc)
    return np.where(sd > 0, long_p, short_p)


def liquidated_vec(
    side: A,
    liq_price: A,
    path_min: A,
    path_max: A,
) -> npt.NDArray[np.bool_]:
    """Liquidated somewhere on a path: long if its minimum <= p_liq, short if its maximum >= p_liq.

    Equity is monotone in price, so only the extreme mark matters.
    """
    sd, lp = f64(side), f64(liq_price)
    return np.where(sd > 0, f64(path_min) <= lp, f64(path_max) >= lp)


def funding_payment_vec(
    side: A,
    size: A,
    rate: A,
    price: A,
    dt: A = 1.0,
) -> FloatArray:
    """Float64 twin of :meth:`.perps.PerpPosition.funding_payment`."""
    return f64(side) * f64(rate) * f64(size) * f64(price) * f64(dt)
