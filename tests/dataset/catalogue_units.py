"""Bad user files for the validator: unit errors in every money column, and cited_metrics.

The unit cases include files that mix garbled and correct figures: the garbled ones get the
"did you mean", and ``test_units.py`` checks that the correct ones get none.
"""

from __future__ import annotations

from tests.dataset.catalogue import (
    DEFIANT,
    GALAXY,
    cited,
    cited_csv,
    obs,
    obs_csv,
    ovl,
    vc,
)


def segments(period: str, published: str, total: str, cefi: str, defi: str, cdp: str) -> str:
    """A file citing a quarter's total and its three segment totals."""
    return obs_csv(
        obs(period=period, segment="total", platform="", value_usd=total, published=published),
        obs(period=period, platform="", value_usd=cefi, published=published),
        obs(period=period, segment="defi", platform="", value_usd=defi, published=published),
        obs(
            period=period,
            segment="cdp",
            platform="",
            metric="supply_usd",
            value_usd=cdp,
            published=published,
        ),
    )


#: The correct $36.5B total of 2024Q4 with its three segments typed 10x too large.
GARBLED_SEGMENTS = segments("2024Q4", "2025-05-01", "36.5e9", "112e9", "191e9", "62e9")

UNIT_CASES = [
    # --- every money column ------------------------------------------------------------------
    (
        "unit_error_vc_amount",
        "vc.csv",
        vc(period="2022Q2", deals="8", amount_usd="5.02e9", share_of_crypto_vc=""),
        ["probable unit error", "10x the same figure $0.502B for 2022Q2", "did you mean $0.502B?"],
        "amount_usd",
        2,
    ),
    (
        "unit_error_vc_thousands_for_millions",
        "vc.csv",
        vc(period="2022Q2", deals="8", amount_usd="502e3", share_of_crypto_vc=""),
        ["0.001x the same figure $0.502B for 2022Q2", "did you mean $0.502B?"],
        "amount_usd",
        2,
    ),
    (
        "unit_error_overlap_1000x",
        "ovl.csv",
        ovl(lender="Galaxy", via_platform="DeFi protocols (unspecified)", amount_usd="124.9e9"),
        ["1,000x the same figure $0.125B for 2024Q4", "did you mean $0.125B?"],
        "amount_usd",
        2,
    ),
    (
        "overlap_exceeds_whole_market",
        "ovl.csv",
        ovl(amount_usd="50e9"),
        ["overlaps for 2024Q4", "sum to $50B, more than the whole market $41.1B"],
        "amount_usd",
        2,
    ),
    (
        "unit_error_tenth",
        "obs.csv",
        obs_csv(
            obs(
                period="2024Q3",
                platform="Tether",
                value_usd="0.67e9",
                source_id="dinarian-2025-01-tether-q4",
                published="2025-01-31",
            )
        ),
        ["0.1x the same figure $6.7B for 2024Q3", "did you mean $6.7B?"],
        "value_usd",
        2,
    ),
    (
        "unit_error_hundredfold",
        "obs.csv",
        obs_csv(obs(period="2024Q4", platform="", value_usd="1120e9", published="2025-05-01")),
        ["100x the same figure $11.2B for 2024Q4", "did you mean $11.2B?"],
        "value_usd",
        2,
    ),
    (
        "unit_error_cited_vc_total",
        "cm.csv",
        cited_csv(cited(period="2022Q1-2024Q4", scope="vc", metric="amount_usd", value="16.3e9")),
        ["10x the same figure $1.63B for 2022Q1-2024Q4", "did you mean $1.63B?"],
        "value",
        2,
    ),
    (
        "vc_quarters_exceed_cited_total",
        "vc.csv",
        vc(period="2023Q1", amount_usd="2e9", share_of_crypto_vc=""),
        ["vc_funding amounts of 4 of the 12 quarter(s) in 2022Q1-2024Q4", "$2.53B, more than"],
        "amount_usd",
        2,
    ),
    # --- the outlier is blamed, from all the evidence ----------------------------------------
    (
        "garbled_segments_cefi_blamed",
        "obs.csv",
        GARBLED_SEGMENTS,
        ["$112B is 10x the same figure $11.2B for 2024Q4", "did you mean $11.2B?"],
        "value_usd",
        3,
    ),
    (
        "garbled_segments_cdp_blamed",
        "obs.csv",
        GARBLED_SEGMENTS,
        ["$62B is 10x the same figure $6.2B", "did you mean $6.2B?"],
        "value_usd",
        5,
    ),
    (
        "garbled_segment_new_quarter",
        "obs.csv",
        segments("2025Q4", "2026-02-15", "80e9", "260e9", "450e9", "90e9"),
        ["10.7x its neighbour $24.4B for 2025Q3", "did you mean $26B?"],
        "value_usd",
        3,
    ),
    (
        "garbled_segment_internal_sum_only",
        "obs.csv",
        segments("2019Q4", "2020-02-15", "36.5e9", "11.2e9", "191e9", "6.2e9"),
        ["cefi + defi + cdp = $208B exceeds the cited total $36.5B", "did you mean $19.1B?"],
        "value_usd",
        4,
    ),
    (
        "garbled_total_or_segments_undecidable",
        "obs.csv",
        segments("2019Q4", "2020-02-15", "36.5e9", "112e9", "191e9", "62e9"),
        ["exceeds the cited total $36.5B", "nothing else says whether the total or its parts"],
        "value_usd",
        2,
    ),
    (
        "neighbours_in_one_file_undecidable",
        "obs.csv",
        obs_csv(
            obs(period="2019Q4", value_usd="1e9", published="2020-02-15"),
            obs(period="2020Q1", value_usd="10e9", published="2020-05-15"),
        ),
        ["10x its neighbour $1B for 2019Q4", "nothing else says which of the two is off"],
        "value_usd",
        3,
    ),
    # --- a conflict does not hide a unit error -----------------------------------------------
    (
        "conflict_and_unit_error_conflict",
        "obs.csv",
        obs_csv(
            obs(
                period="2024Q4",
                platform="Tether",
                value_usd="82e9",
                source_id=DEFIANT,
                published="2025-04-14",
            )
        ),
        ["conflicts with lendscope/data/observations.csv row 28"],
        None,
        2,
    ),
    (
        "conflict_and_unit_error_unit",
        "obs.csv",
        obs_csv(
            obs(
                period="2024Q4",
                platform="Tether",
                value_usd="82e9",
                source_id=DEFIANT,
                published="2025-04-14",
            )
        ),
        ["probable unit error: $82B is 10x the same figure $8.2B", "did you mean $8.2B?"],
        "value_usd",
        2,
    ),
]

CITED_CASES = [
    (
        "cited_ratio_disagrees",
        "cm.csv",
        cited_csv(cited(value="0.53")),
        [
            "0.53 disagrees with the drawdown_from_peak of total in 2024Q4",
            "published by 2025-05-01: 0.4332 = 1 - $36.5B / peak $64.4B (2021Q4)",
        ],
        "value",
        2,
    ),
    (
        "cited_ratio_tenfold_small",
        "cm.csv",
        cited_csv(cited(value="0.043")),
        ["0.043 disagrees", "did you mean 0.43?"],
        "value",
        2,
    ),
    (
        "cited_change_in_percent",
        "cm.csv",
        cited_csv(
            cited(period="2025Q3", metric="qoq_change", value="38.5", published="2025-11-20")
        ),
        ["38.5 disagrees with the qoq_change", "did you mean 0.385? ratios are fractions"],
        "value",
        2,
    ),
    (
        "cited_share_in_percent",
        "cm.csv",
        cited_csv(cited(scope="cefi", metric="top3_share", value="88.6")),
        ["88.6 is not a fraction in [0, 1]", "did you mean 0.886 (88.6%)?"],
        "value",
        2,
    ),
    (
        "cited_platform_share_disagrees",
        "cm.csv",
        cited_csv(cited(scope="cefi:Tether", metric="share", value="0.5")),
        ["0.5 disagrees with the share of cefi:Tether", "Tether $8.2B / cefi $11.2B"],
        "value",
        2,
    ),
    (
        "cited_yaml_list",
        "cm.yaml",
        "cited_metrics:\n"
        "  - {period: 2024Q4, scope: total, metric: defi_share_ex_cdp, value: 0.063,\n"
        f"     source_id: {GALAXY}, published: 2025-05-01}}\n",
        ["0.063 disagrees", "defi $19.1B / total ex-CDP $30.3B", "did you mean 0.63?"],
        "value",
        1,
    ),
    (
        "cited_unknown_scope",
        "cm.csv",
        cited_csv(cited(scope="lending")),
        ["unknown scope 'lending'", "segment:platform"],
        "scope",
        2,
    ),
    (
        "cited_unknown_metric",
        "cm.csv",
        cited_csv(cited(metric="hhi")),
        ["unknown metric 'hhi' for scope 'total'", "onchain_share"],
        "metric",
        2,
    ),
    (
        "cited_bad_period",
        "cm.csv",
        cited_csv(cited(period="2024-Q4")),
        ["'2024-Q4' is not a quarter YYYYQn or a range YYYYQn-YYYYQn"],
        "period",
        2,
    ),
    (
        "cited_range_not_vc",
        "cm.csv",
        cited_csv(cited(period="2022Q1-2024Q4")),
        ["a range of quarters is for scope 'vc' only"],
        "period",
        2,
    ),
    (
        "cited_range_backwards",
        "cm.csv",
        cited_csv(cited(period="2024Q4-2022Q1", scope="vc", metric="deals", value="5")),
        ["runs backwards"],
        "period",
        2,
    ),
    (
        "cited_published_early",
        "cm.csv",
        cited_csv(cited(published="2024-12-01")),
        ["2024-12-01 is before the end of 2024Q4", "cannot be cited before its quarter ends"],
        "published",
        2,
    ),
    (
        "cited_unknown_source",
        "cm.csv",
        cited_csv(cited(source_id="no-such-report")),
        ["unknown source 'no-such-report'"],
        "source_id",
        2,
    ),
    (
        "cited_conflicts_with_bundled",
        "cm.csv",
        cited_csv(cited(value="0.44", source_id=DEFIANT, published="2025-04-14")),
        ["conflicts with lendscope/data/cited_metrics.csv row 2", "same period, scope, metric"],
        None,
        2,
    ),
    (
        "cited_duplicate_in_file",
        "cm.csv",
        cited_csv(cited(), cited()),
        ["duplicates", "row 2"],
        None,
        3,
    ),
    (
        "cited_vc_deals_exceed_quarters",
        "cm.csv",
        cited_csv(cited(period="2022Q1-2024Q4", scope="vc", metric="deals", value="5")),
        ["count 8 deals, more than the cited 5"],
        "value",
        2,
    ),
    (
        "cited_drawdown_above_one",
        "cm.csv",
        cited_csv(cited(value="43")),
        ["43 is above 1"],
        "value",
        2,
    ),
]
