"""Bad user files for the validator: row rules, sums, unit errors, other tables, fixed bugs."""

from __future__ import annotations

import pytest

from tests.dataset.catalogue import DEFIANT, GALAXY, obs, obs_csv, ovl, src, vc, yaml_obs

RULE_CASES = [
    # --- row rules -------------------------------------------------------------------------
    (
        "period_before_2012",
        "obs.csv",
        obs_csv(obs(period="2011Q4", published="2012-01-15")),
        ["2011Q4 is before 2012Q1"],
        "period",
        2,
    ),
    (
        "published_before_quarter_end",
        "obs.csv",
        obs_csv(obs(published="2025-12-15")),
        ["2025-12-15 is before the end of 2025Q4", "method=estimate"],
        "published",
        2,
    ),
    (
        "negative_value",
        "obs.csv",
        obs_csv(obs(value_usd="-1e9")),
        ["is negative", "non-negative"],
        "value_usd",
        2,
    ),
    (
        "metric_not_fitting_segment",
        "obs.csv",
        obs_csv(obs(segment="cdp", platform="AcmeUSD", chain="ethereum")),
        ["'outstanding_loans_usd' does not fit segment 'cdp'", "use 'supply_usd'"],
        "metric",
        2,
    ),
    (
        "unknown_source",
        "obs.csv",
        obs_csv(obs(source_id="no-such-report")),
        ["unknown source 'no-such-report'", "add it to sources first"],
        "source_id",
        2,
    ),
    (
        "cefi_with_chain",
        "obs.csv",
        obs_csv(obs(chain="ethereum")),
        ["must be empty for CeFi lenders"],
        "chain",
        2,
    ),
    (
        "total_with_platform",
        "obs.csv",
        obs_csv(obs(period="2019Q4", segment="total", published="2020-01-15")),
        ["must be empty", "'total' row is a market-wide aggregate"],
        "platform",
        2,
    ),
    (
        "total_ex_cdp_with_chain",
        "obs.csv",
        obs_csv(
            obs(
                period="2019Q4",
                segment="total_ex_cdp",
                platform="",
                chain="ethereum",
                published="2020-01-15",
            )
        ),
        ["must be empty", "'total_ex_cdp' row is a market-wide aggregate"],
        "chain",
        2,
    ),
    (
        "withdrawn_with_value",
        "obs.csv",
        obs_csv(obs(method="withdrawn")),
        ["must be empty when method is 'withdrawn'"],
        "value_usd",
        2,
    ),
    (
        "value_missing",
        "obs.csv",
        obs_csv(obs(value_usd="")),
        ["is empty; a value is required (or method 'withdrawn')"],
        "value_usd",
        2,
    ),
    (
        "duplicate_in_file",
        "obs.csv",
        obs_csv(obs(), obs()),
        ["duplicates", "row 2 (same period, segment, platform, chain, metric, published)"],
        None,
        3,
    ),
    (
        "conflicts_with_bundled",
        "obs.csv",
        obs_csv(
            obs(
                period="2024Q4",
                platform="Tether",
                value_usd="8.3e9",
                source_id=DEFIANT,
                published="2025-04-14",
            )
        ),
        ["conflicts with lendscope/data/observations.csv row 28", "same period, segment"],
        None,
        2,
    ),
    # --- sums against cited totals, unit errors --------------------------------------------
    (
        "components_exceed_cited_total",
        "obs.csv",
        obs_csv(obs(period="2024Q4", value_usd="0.5e9", published="2025-04-14")),
        [
            "cefi platforms sum to $11.7B",
            "more than the cited cefi total $11.2B",
            "as published by 2025-04-14",
        ],
        "value_usd",
        2,
    ),
    (
        "unattributed_not_closing_total",
        "obs.csv",
        obs_csv(
            obs(period="2019Q4", platform="", value_usd="10e9", published="2020-01-15"),
            obs(period="2019Q4", value_usd="2e9", published="2020-01-15"),
            obs(period="2019Q4", platform="unattributed", value_usd="3e9", published="2020-01-15"),
        ),
        ["platforms incl. 'unattributed' sum to $5B", "not the cited cefi total $10B"],
        "value_usd",
        3,
    ),
    (
        "segments_exceed_cited_total",
        "obs.csv",
        obs_csv(
            obs(
                period="2023Q3",
                segment="defi",
                platform="",
                value_usd="15e9",
                published="2025-04-20",
            )
        ),
        ["defi = $15B exceeds the cited total $14.2B"],
        "value_usd",
        2,
    ),
    (
        "unit_error_cefi_total",
        "obs.csv",
        obs_csv(obs(period="2024Q4", platform="", value_usd="112e9", published="2025-05-01")),
        ["probable unit error", "did you mean $11.2B?"],
        "value_usd",
        2,
    ),
    (
        "unit_error_same_quarter",
        "obs.csv",
        obs_csv(
            obs(
                period="2024Q3",
                platform="Tether",
                value_usd="67e9",
                source_id="dinarian-2025-01-tether-q4",
                published="2025-01-31",
            )
        ),
        ["probable unit error", "10x the same figure $6.7B for 2024Q3", "did you mean $6.7B?"],
        "value_usd",
        2,
    ),
    (
        "unit_error_neighbour_quarter",
        "obs.csv",
        obs_csv(
            obs(
                period="2024Q2",
                platform="Tether",
                value_usd="67e9",
                source_id="financefocus-2024-10-tether-q3",
                published="2024-10-31",
            )
        ),
        ["probable unit error", "its neighbour $6.7B for 2024Q3", "did you mean $6.7B?"],
        "value_usd",
        2,
    ),
    # --- other tables ----------------------------------------------------------------------
    (
        "vc_share_above_one",
        "vc.csv",
        vc(share_of_crypto_vc="1.5"),
        ["1.5 is not a fraction in [0, 1]"],
        "share_of_crypto_vc",
        2,
    ),
    ("vc_deals_not_integer", "vc.csv", vc(deals="2.5"), ["'2.5' is not an integer"], "deals", 2),
    ("vc_deals_negative", "vc.csv", vc(deals="-2"), ["is negative"], "deals", 2),
    (
        "vc_no_figures",
        "vc.csv",
        vc(deals="", amount_usd="", share_of_crypto_vc=""),
        ["has none of deals, amount_usd, share_of_crypto_vc"],
        None,
        2,
    ),
    (
        "overlap_negative_amount",
        "ovl.csv",
        ovl(amount_usd="-1e6"),
        ["is negative (-1e+06)"],
        "amount_usd",
        2,
    ),
    (
        "overlap_published_early",
        "ovl.csv",
        ovl(published="2024-12-01"),
        ["is before the end of 2024Q4"],
        "published",
        2,
    ),
    (
        "source_non_http_url",
        "src.csv",
        src(url="ftp://acme.example/q4.pdf"),
        ["'ftp://acme.example/q4.pdf' is not an http(s) URL"],
        "url",
        2,
    ),
    (
        "source_unknown_kind",
        "src.csv",
        src(kind="blog"),
        ["unknown value 'blog'", "attestation"],
        "kind",
        2,
    ),
    (
        "source_id_conflicts_with_bundled",
        "src.csv",
        src(id=GALAXY),
        ["conflicts with lendscope/data/sources.csv row 2 (same id)"],
        "id",
        2,
    ),
    # --- once validator bugs, now fixed ---------------------------------------------------
    pytest.param(
        "obs.yaml",
        yaml_obs() + "    1: x\n",
        ["unknown column(s)"],
        None,
        None,
        id="yaml_non_string_key",
    ),
    pytest.param(
        "obs.csv",
        obs_csv(obs(note="x" * 200_000)),
        [],
        None,
        2,
        id="csv_huge_cell",
    ),
    pytest.param(
        "vc.csv",
        vc(deals="1e30"),
        ["1e30"],
        "deals",
        2,
        id="vc_deals_beyond_int64",
    ),
    pytest.param(
        "obs.csv",
        obs_csv(obs(period="2099Q1", method="estimate", published="2025-06-01")),
        ["2099Q1"],
        "period",
        2,
        id="far_future_period",
    ),
]
