// Second reference for lendscope's AdaptiveCurveIrm port: @morpho-org/blue-sdk (bigint-exact).
// stdin: {"rates": [[utilization, startRateAtTarget, elapsed], ...], "exp": [x, ...], "lltv": [l, ...]}
// (all decimal strings); stdout: the same shape with the sdk's answers as decimal strings.
const { AdaptiveCurveIrmLib, MarketUtils } = require("@morpho-org/blue-sdk");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = {
  rates: (input.rates || []).map(([u, r, t]) => {
    const res = AdaptiveCurveIrmLib.getBorrowRate(BigInt(u), BigInt(r), BigInt(t));
    return [res.avgBorrowRate.toString(), res.endRateAtTarget.toString()];
  }),
  exp: (input.exp || []).map((x) => AdaptiveCurveIrmLib.wExp(BigInt(x)).toString()),
  lltv: (input.lltv || []).map((l) => MarketUtils.getLiquidationIncentiveFactor({ lltv: BigInt(l) }).toString()),
};
process.stdout.write(JSON.stringify(out));
