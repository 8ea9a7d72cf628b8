"""How borrowers and depositors behave under stress (parameters: ``docs/risk-calibration.md``).

**Borrowers.** Each day a share of every position whose health h (DeFi: the health factor; a
CeFi loan: liquidation LTV / LTV) is below ``act_hf`` acts before liquidators do: it repays
debt or adds collateral until its health is ``target_hf``. The share rises linearly as h falls,
``max_share · (act_hf - h) / (act_hf - 1)``, capped at ``max_share`` at h <= 1; the rest of a
position that is unhealthy is liquidated by the protocol's rules.

**Depositors.** Run-off is zero in a calm market. A lender's deposits leave at
``base · signal`` per day, where ``signal`` adds the BTC/ETH drawdown from its running peak (in
units of ``drawdown_ref``), dated news (each ``intensity``, decaying with ``news_half_life``),
peer failures (``peer`` each, decaying with ``peer_half_life``) and the lender's own known
losses as a share of its capital (``loss``).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Borrowers:
    """Top-up / repay hazard by health."""

    act_hf: float = 1.25
    max_share: float = 0.5
    target_hf: float = 1.5

    def __post_init__(self) -> None:
        if not 1 < self.act_hf <= self.target_hf or not 0 <= self.max_share <= 1:
            raise ValueError("need 1 < act_hf <= target_hf and 0 <= max_share <= 1")

    def share(self, h: np.ndarray) -> np.ndarray:
        """Share of each position that acts today at health ``h``."""
        x = (self.act_hf - np.asarray(h, float)) / (self.act_hf - 1.0)
        return self.max_share * np.clip(x, 0.0, 1.0)


@dataclasses.dataclass(frozen=True)
class Depositors:
    """Stress-driven run-off (shares of remaining deposits per day)."""

    base: float = 0.01  # per day at signal 1
    drawdown_ref: float = 0.5
    news_half_life: float = 7.0
    peer: float = 0.5
    peer_half_life: float = 14.0
    loss: float = 2.0
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
        return drawdown / self.drawdown_ref + news + peers + self.loss * np.maximum(loss_share, 0)

    def news_weight(self, age_days: np.ndarray) -> np.ndarray:
        """Decay of a news item ``age_days`` old (1 on its day, 0 before it)."""
        a = np.asarray(age_days, float)
        return np.where(a >= 0, 0.5 ** (np.maximum(a, 0) / self.news_half_life), 0.0)
