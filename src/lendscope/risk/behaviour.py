"""How borrowers and depositors behave under stress (parameters: ``docs/risk-calibration.md``).

**Borrowers.** Each day a share of every position whose health h (DeFi: the health factor; a
CeFi loan: liquidation LTV / LTV) is below ``act_hf`` acts before liquidators do: it repays
debt or adds collateral until its health is ``target_hf``. The share rises linearly as h falls,
``daily_share · (act_hf - h) / (act_hf - 1)`` for 1 <= h < act_hf, and is ``max_share`` for a
position that has crossed h < 1; the rest of such a position is liquidated by the protocol's
rules.

**Depositors.** Run-off is zero in a calm market. A lender's deposits leave at
``base · signal`` per day, where ``signal`` adds the BTC/ETH drawdown from its peak of the last
``window_days`` beyond ``drawdown_min`` (in units of ``drawdown_ref``: runs answer sharp falls,
not a level that has held for months), dated news (each ``intensity``, decaying with
``news_half_life``), peer failures (``peer`` each, decaying with ``peer_half_life``) and the
lender's own known losses as a share of its deposits (``loss``).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Borrowers:
    """Top-up / repay hazard by health."""

    act_hf: float = 1.25
    daily_share: float = 0.1  # per day, just above HF 1 (an assumption, documented)
    max_share: float = 0.9  # at liquidation: Maker 21-22 Jan 2022, 6 of 7 whale vaults saved
    target_hf: float = 1.5
    #: per day, the share of the gap back to a position's starting HF it borrows again once
    #: prices have lifted it above that (an assumption: borrowers keep their chosen leverage)
    releverage: float = 0.02

    def __post_init__(self) -> None:
        ok = 0 <= self.daily_share <= self.max_share <= 1
        if not 1 < self.act_hf <= self.target_hf or not ok:
            raise ValueError("need 1 < act_hf <= target_hf and 0 <= daily_share <= max_share <= 1")

    def share(self, h: np.ndarray) -> np.ndarray:
        """Share of each position that acts today at health ``h``.

        Rises linearly from 0 at ``act_hf`` to ``daily_share`` at HF 1; a position that would
        be liquidated (h < 1) is saved with ``max_share``.
        """
        h = np.asarray(h, float)
        x = np.clip((self.act_hf - h) / (self.act_hf - 1.0), 0.0, 1.0)
        return np.where(h < 1.0, self.max_share, self.daily_share * x)


@dataclasses.dataclass(frozen=True)
class Depositors:
    """Stress-driven run-off (shares of remaining deposits per day)."""

    base: float = 0.0111  # per day at signal 1: fit to Vauld (backtest.calibrate.runoff_base)
    drawdown_ref: float = 0.5
    window_days: int = 7
    drawdown_min: float = 0.1  # a weekly fall within ordinary volatility starts no run
    news_half_life: float = 7.0
    peer: float = 0.5
    peer_half_life: float = 14.0
    loss: float = 10.0
    cap: float = 0.25  # most a bucket can lose in one day

    def signal(
        self,
        drawdown: float,
        news: np.ndarray,
        peer_ages: np.ndarray,
        loss_share: np.ndarray,
    ) -> np.ndarray:
        """Stress signal per lender; ``news`` is the decayed news intensity already summed."""
        peers = (
            self.peer * np.sum(0.5 ** (np.asarray(peer_ages, float) / self.peer_half_life))
            if len(peer_ages)
            else 0.0
        )
        dd = max(0.0, drawdown - self.drawdown_min) / self.drawdown_ref
        return dd + news + peers + self.loss * np.maximum(loss_share, 0)

    def news_weight(self, age_days: np.ndarray) -> np.ndarray:
        """Decay of a news item ``age_days`` old (1 on its day, 0 before it)."""
        a = np.asarray(age_days, float)
        return np.where(a >= 0, 0.5 ** (np.maximum(a, 0) / self.news_half_life), 0.0)
