"""Differential test: lendscope's Morpho Blue port against the real Morpho.sol 1.0.0 on anvil.

Hypothesis drives random sequences of every user-facing entry point, time jumps and oracle moves;
after each step the chain's market(), every position(), token balances and the returned amounts
(from the events) must equal the Python shadow exactly, and reverts must match with their reason.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from lendscope.mechanics.intmath import WAD
from lendscope.mechanics.morpho_blue.blue import MorphoBlue
from lendscope.mechanics.morpho_blue.market import (
    Market,
    MarketParams,
    Position,
    is_healthy,
    max_borrow,
    seizable_collateral,
)
from lendscope.mechanics.morpho_blue.math import (
    ORACLE_PRICE_SCALE,
    MorphoRevert,
    to_assets_down,
    to_assets_up,
    to_shares_down,
    w_div_down,
)
from tests.evm.morpho import (
    MorphoDeployment,
    deploy,
    event_decoder,
    read_state,
    revert_reason,
    rpc,
    send_sync,
)

EXAMPLES, STEPS = 20, 30  # up to 600 random steps + 140 seeding steps per run
STATS: dict = {"steps": 0, "reverts": Counter(), "liquidations": 0, "bad_debt": 0}


def irm_mock(market: Market, now: int) -> int:
    """``src/mocks/IrmMock.sol`` (morpho-blue 1.0.0) ``borrowRateView``: utilization / 365 days."""
    if market.total_supply_assets == 0:
        return 0
    return w_div_down(market.total_borrow_assets, market.total_supply_assets) // (365 * 86400)


def _int(x: int | str) -> int:
    """anvil sends ``status`` as hex but ``blockTimestamp`` as a JSON number."""
    return x if isinstance(x, int) else int(x, 16)


@pytest.fixture(scope="module")
def morpho_env(w3):
    """Deploy once per module; the chain is put back afterwards for other modules."""
    sid = rpc(w3, "evm_snapshot", [])
    d = deploy(w3)
    yield d
    rpc(w3, "evm_revert", [sid])


class Env:
    """Chain side of the machine: a base snapshot, tx sending and state reads."""

    def __init__(self, d: MorphoDeployment) -> None:
        self.d, self.w3 = d, d.w3
        self.base = rpc(self.w3, "evm_snapshot", [])
        self.decode = event_decoder(d.morpho.abi)
        self.actors = [*d.users, d.fee_recipient]

    def reset(self) -> None:
        rpc(self.w3, "evm_revert", [self.base])
        self.base = rpc(self.w3, "evm_snapshot", [])  # a revert consumes the snapshot


def test_morpho_matches_chain(morpho_env: MorphoDeployment) -> None:
    env = Env(morpho_env)
    d = env.d
    lltv = d.params[4]
    t_start = time.perf_counter()

    class MorphoDiff(RuleBasedStateMachine):
        @initialize(
            lend=st.integers(1, 999),
            book=st.lists(
                st.tuples(st.integers(1, 999), st.integers(18, 23), st.integers(5_000, 10_000)),
                min_size=3,
                max_size=3,
            ),
        )
        def setup(self, lend: int, book: list[tuple[int, int, int]]) -> None:
            env.reset()
            m = Market(*d.market())
            self.rates: list[int] = []

            def irm(market: Market, now: int) -> int:
                self.rates.append(irm_mock(market, now))
                return self.rates[-1]

            self.py = MorphoBlue(
                MarketParams(*d.params), m, irm, ORACLE_PRICE_SCALE, d.fee_recipient
            )
            self.now = env.w3.eth.get_block("latest")["timestamp"]  # later than lastUpdate
            self.morpho_addr = d.morpho.address
            self.holders = [*d.users, self.morpho_addr]
            self.bal = read_state(d, [], self.holders)["balances"]
            # Seed a book (through the checked rules) so that every example has borrowers.
            self.supply(0, lend, 24, False)
            for k, (m_, e, bps) in enumerate(book, start=1):
                self.supply_collateral(k, m_, e)
                self.borrow(k, bps, False)

        # ---- plumbing
        def send(self, user: str, contract, fn: str, args: list, py_call):
            """Run ``py_call`` and the tx at ``self.now``; returns (python result, events)."""
            STATS["steps"] += 1
            self.rates.clear()
            try:
                out, py_reason = py_call(), None
            except MorphoRevert as e:
                out, py_reason = None, e.reason
            rpc(env.w3, "evm_setNextBlockTimestamp", [self.now])
            r = send_sync(env.w3, user, contract.address, contract.encode_abi(fn, args))
            assert _int(r["blockTimestamp"]) == self.now
            ok = _int(r["status"]) == 1
            chain_reason = None if ok else revert_reason(env.w3, r["transactionHash"])
            assert chain_reason == py_reason, (fn, args, chain_reason, py_reason)
            if py_reason is not None:
                STATS["reverts"][py_reason] += 1
            events = [e for lg in r["logs"] if (e := env.decode(lg)) is not None]
            for name, ev in events:
                if name == "AccrueInterest":
                    assert self.rates == [ev["prevBorrowRate"]]
            return out, {name: ev for name, ev in events}

        def move(self, token, user: str, delta: int) -> None:
            """Expected ERC20 move: ``user`` gains ``delta``, Morpho loses it."""
            self.bal[(token.address, user)] += delta
            self.bal[(token.address, self.morpho_addr)] -= delta

        def check(self) -> None:
            m = self.py.market
            chain = read_state(d, env.actors, self.holders)
            assert chain["market"] == (
                m.total_supply_assets,
                m.total_supply_shares,
                m.total_borrow_assets,
                m.total_borrow_shares,
                m.last_update,
                m.fee,
            )
            for u in env.actors:
                p = self.py.positions.get(u, Position())
                assert chain["positions"][u] == (p.supply_shares, p.borrow_shares, p.collateral)
            assert chain["balances"] == self.bal

        def pos(self, i: int, field: str | None = None) -> tuple[str, Position]:
            """User ``i``, or the ``i``-th (cyclically) among those with a non-zero ``field``."""
            ps = {u: self.py.positions.get(u, Position()) for u in d.users}
            have = [u for u in d.users if field and getattr(ps[u], field)]
            u = have[i % len(have)] if have else d.users[i]
            return u, ps[u]

        # ---- rules
        @rule(dt=st.sampled_from([0, 0, 1, 12, 3600, 86400, 30 * 86400, 365 * 86400]))
        def warp(self, dt: int) -> None:
            self.now += dt

        @rule()
        def accrue(self) -> None:
            self.send(
                d.owner,
                d.morpho,
                "accrueInterest",
                [d.params],
                lambda: self.py.accrue_interest(self.now),
            )
            self.check()

        @rule(bps=st.integers(4000, 13000))
        def set_price(self, bps: int) -> None:
            price = min(max(self.py.price * bps // 10_000, 10**30), 10**42)
            self.send(d.owner, d.oracle, "setPrice", [price], lambda: None)
            self.py.price = price
            self.check()

        @rule(i=st.integers(0, 3), m=st.integers(1, 999), e=st.integers(0, 24), by_sh=st.booleans())
        def supply(self, i: int, m: int, e: int, by_sh: bool) -> None:
            u, _ = self.pos(i)
            a, s = (0, m * 10**e) if by_sh else (m * 10**e, 0)
            out, ev = self.send(
                u,
                d.morpho,
                "supply",
                [d.params, a, s, u, b""],
                lambda: self.py.supply(self.now, a, s, u),
            )
            if out:
                assert (ev["Supply"]["assets"], ev["Supply"]["shares"]) == out
                self.move(d.loan, u, -out[0])
            self.check()

        @rule(i=st.integers(0, 3), bps=st.integers(1, 10_300), by_sh=st.booleans())
        def withdraw(self, i: int, bps: int, by_sh: bool) -> None:
            u, p = self.pos(i, "supply_shares")
            m = self.py.market
            sh = p.supply_shares * bps // 10_000
            a = to_assets_down(sh, m.total_supply_assets, m.total_supply_shares)
            a, sh = (0, sh) if by_sh else (a, 0)
            out, ev = self.send(
                u,
                d.morpho,
                "withdraw",
                [d.params, a, sh, u, u],
                lambda: self.py.withdraw(self.now, a, sh, u),
            )
            if out:
                assert (ev["Withdraw"]["assets"], ev["Withdraw"]["shares"]) == out
                self.move(d.loan, u, out[0])
            self.check()

        @rule(i=st.integers(0, 3), bps=st.integers(1, 10_500), by_sh=st.booleans())
        def borrow(self, i: int, bps: int, by_sh: bool) -> None:
            u, p = self.pos(i, "collateral")
            m = self.py.market
            room = max_borrow(p, lltv, self.py.price) - to_assets_down(
                p.borrow_shares, m.total_borrow_assets, m.total_borrow_shares
            )
            room = min(room, m.total_supply_assets - m.total_borrow_assets)
            a = max(room, 0) * bps // 10_000
            s = to_shares_down(a, m.total_borrow_assets, m.total_borrow_shares)
            a, s = (0, s) if by_sh else (a, 0)
            out, ev = self.send(
                u,
                d.morpho,
                "borrow",
                [d.params, a, s, u, u],
                lambda: self.py.borrow(self.now, a, s, u),
            )
            if out:
                assert (ev["Borrow"]["assets"], ev["Borrow"]["shares"]) == out
                self.move(d.loan, u, out[0])
            self.check()

        @rule(i=st.integers(0, 3), bps=st.integers(1, 10_100), by_sh=st.booleans())
        def repay(self, i: int, bps: int, by_sh: bool) -> None:
            u, p = self.pos(i, "borrow_shares")
            m = self.py.market
            s = p.borrow_shares * bps // 10_000
            a = to_assets_down(s, m.total_borrow_assets, m.total_borrow_shares)
            a, s = (0, s) if by_sh else (a, 0)
            out, ev = self.send(
                u,
                d.morpho,
                "repay",
                [d.params, a, s, u, b""],
                lambda: self.py.repay(self.now, a, s, u),
            )
            if out:
                assert (ev["Repay"]["assets"], ev["Repay"]["shares"]) == out
                self.move(d.loan, u, -out[0])
            self.check()

        @rule(i=st.integers(0, 3), m=st.integers(0, 999), e=st.integers(0, 24))
        def supply_collateral(self, i: int, m: int, e: int) -> None:
            u, _ = self.pos(i)
            a = m * 10**e
            self.send(
                u,
                d.morpho,
                "supplyCollateral",
                [d.params, a, u, b""],
                lambda: self.py.supply_collateral(self.now, a, u) or True,
            )
            if a:
                self.move(d.coll, u, -a)
            self.check()

        @rule(i=st.integers(0, 3), bps=st.integers(1, 10_300))
        def withdraw_collateral(self, i: int, bps: int) -> None:
            u, p = self.pos(i, "collateral")
            a = p.collateral * bps // 10_000
            out, _ = self.send(
                u,
                d.morpho,
                "withdrawCollateral",
                [d.params, a, u, u],
                lambda: self.py.withdraw_collateral(self.now, a, u) or True,
            )
            if out:
                self.move(d.coll, u, a)
            self.check()

        @rule(
            liq=st.integers(0, 3),
            i=st.integers(0, 3),
            bps=st.integers(1, 10_000),
            mode=st.sampled_from(["seized", "seizable", "all", "shares"]),
            crash=st.integers(5_000, 9_990),
        )
        def liquidate(self, liq: int, i: int, bps: int, mode: str, crash: int) -> None:
            lq, (b, p) = d.users[liq], self.pos(i, "borrow_shares")
            m = self.py.market
            if p.borrow_shares and is_healthy(p, m, lltv, self.py.price):
                # Crash the oracle to ``crash`` bps of the borrower's liquidation price first;
                # accrual before the liquidation only makes the position less healthy.
                debt = to_assets_up(p.borrow_shares, m.total_borrow_assets, m.total_borrow_shares)
                liq_px = debt * ORACLE_PRICE_SCALE * WAD // max(p.collateral * lltv, 1)
                self.set_price(max(liq_px, 1) * crash // self.py.price)
            if mode == "shares":
                seized, shares = 0, max(p.borrow_shares * bps // 10_000, 1)
            elif mode == "all":  # all collateral: bad debt when it covers less than the debt
                seized, shares = max(p.collateral, 1), 0
            else:
                base = p.collateral
                if mode == "seizable":
                    # Interest up to now changes what is seizable: take it on a scratch copy.
                    scratch = MorphoBlue(
                        self.py.params,
                        Market(**vars(self.py.market)),
                        irm_mock,
                        self.py.price,
                        "scratch",
                    )
                    scratch.accrue_interest(self.now)
                    base = seizable_collateral(p, scratch.market, lltv, self.py.price)
                seized, shares = max(base * bps // 10_000, 1), 0
            out, ev = self.send(
                lq,
                d.morpho,
                "liquidate",
                [d.params, b, seized, shares, b""],
                lambda: self.py.liquidate(self.now, b, seized, shares),
            )
            if out:
                STATS["liquidations"] += 1
                STATS["bad_debt"] += out.bad_debt_assets > 0
                e = ev["Liquidate"]
                assert (e["seizedAssets"], e["repaidAssets"], e["repaidShares"]) == (
                    out.seized_assets,
                    out.repaid_assets,
                    out.repaid_shares,
                )
                assert (e["badDebtAssets"], e["badDebtShares"]) == (
                    out.bad_debt_assets,
                    out.bad_debt_shares,
                )
                self.move(d.coll, lq, out.seized_assets)
                self.move(d.loan, lq, -out.repaid_assets)
            self.check()

    run_state_machine_as_test(
        MorphoDiff,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            # Shrinking replays whole chains of txs for minutes; a failing sequence is short anyway.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
    dt = time.perf_counter() - t_start
    print(f"\nmorpho diff: {STATS} in {dt:.1f}s")
    assert STATS["steps"] >= 200, STATS
    assert STATS["liquidations"] > 0 and STATS["bad_debt"] > 0 and STATS["reverts"], STATS
