#!/usr/bin/env node
// Encode Solana lending accounts with each protocol's own published SDK (npm), for lendscope's
// differential tests (tests/solana/test_sdk_differential.py). Test-only: nothing here ships.
//
//   Kamino Lend  @kamino-finance/klend-sdk 8.0.2      Reserve.layout (codegen from the klend IDL)
//   marginfi     @mrgnlabs/marginfi-client-v2 6.4.2   MARGINFI_IDL + the SDK's anchor BorshCoder
//   Save         @solendprotocol/solend-sdk 0.14.27   ReserveLayout, parseReserve (Solend)
//
// stdin:  {"kamino": [{"set": {path: value}, "get": [path]}], "marginfi": [...], "save": [...]}
//         path is the SDK's own field path ("liquidity.borrowedAmountSf"); a value is a decimal
//         string for integers, base58 for public keys, hex for byte arrays, a variant name for
//         enums. Fields not set stay zero.
// stdout: {"kamino": [{"data": base64 account, "sdk": {path: value as read by the SDK's decoder},
//         "derived": {...}}], ...}  (the SDK's higher-level reads: Fraction, BigNumber, parse*)
//         {"constants": true} also answers the program ids and markets each SDK ships.
"use strict";
const { createRequire } = require("module");

// Each SDK resolves its own dependency versions (anchor 0.28 vs 0.30, web3.js 1.x vs kit).
const kreq = createRequire(require.resolve("@kamino-finance/klend-sdk"));
const mreq = createRequire(require.resolve("@mrgnlabs/marginfi-client-v2"));
const sreq = createRequire(require.resolve("@solendprotocol/solend-sdk"));

class NoPublicKey {} // Kamino's codegen holds addresses as base58 strings (@solana/kit)

function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o == null ? o : o[k]), obj);
}

function convert(old, value, BN, PublicKey) {
  if (BN.isBN(old)) return new BN(value, 10);
  if (old instanceof PublicKey) return new PublicKey(value);
  if (old && old.constructor && old.constructor.name === "PublicKey") return new old.constructor(value);
  if (typeof old === "string") return value; // @solana/kit Address: a base58 string
  if (typeof old === "number") return Number(value);
  if (Array.isArray(old) && (old.length === 0 || typeof old[0] === "number")) {
    return Array.from(Buffer.from(value, "hex"));
  }
  if (Buffer.isBuffer(old)) return Buffer.from(value, "hex");
  if (old && typeof old === "object" && Object.keys(old).length === 1) return { [value]: {} };
  throw new Error(`cannot set a field holding ${JSON.stringify(old)}`);
}

function setPath(obj, path, value, BN, PublicKey) {
  const keys = path.split(".");
  const last = keys.pop();
  const parent = keys.reduce((o, k) => o[k], obj);
  if (!(last in parent)) throw new Error(`no field ${path}`);
  parent[last] = convert(parent[last], value, BN, PublicKey);
}

function show(v) {
  if (v == null) return v;
  if (typeof v === "bigint" || typeof v === "number") return v.toString();
  if (typeof v === "string") return v;
  if (v.toBase58) return v.toBase58();
  if (v.toFixed && v.constructor.name !== "BN") return v.toFixed(); // BigNumber, Decimal
  if (v.toString && v.constructor.name === "BN") return v.toString(10);
  if (Array.isArray(v) && (v.length === 0 || typeof v[0] === "number")) {
    return Buffer.from(v).toString("hex");
  }
  if (Buffer.isBuffer(v)) return v.toString("hex");
  if (typeof v === "object" && Object.keys(v).length === 1) return Object.keys(v)[0]; // enum
  return JSON.stringify(v);
}

function kamino(items) {
  const { Reserve } = kreq("@kamino-finance/klend-sdk/dist/@codegen/klend/accounts/Reserve");
  const { Fraction } = kreq("@kamino-finance/klend-sdk/dist/classes/fraction");
  const BN = kreq("bn.js");
  return items.map(({ set, get }) => {
    const body = Buffer.alloc(Reserve.layout.span);
    const obj = Reserve.layout.decode(body);
    for (const [p, v] of Object.entries(set)) setPath(obj, p, v, BN, NoPublicKey);
    Reserve.layout.encode(obj, body);
    const data = Buffer.concat([Reserve.discriminator, body]);
    const dec = Reserve.decode(data); // the SDK's own account decoder (checks the discriminator)
    const sdk = Object.fromEntries(get.map((p) => [p, show(getPath(dec, p))]));
    const derived = {
      // Fraction.toDecimal() divides by 2^60 at the SDK's own 40 significant digits.
      borrowed_amount: new Fraction(dec.liquidity.borrowedAmountSf).toDecimal().toFixed(),
      market_price: new Fraction(dec.liquidity.marketPriceSf).toDecimal().toFixed(),
      size: String(data.length),
    };
    return { data: data.toString("base64"), sdk, derived };
  });
}

async function marginfi(items) {
  const { BorshCoder } = mreq("@coral-xyz/anchor");
  const BN = mreq("bn.js");
  const { PublicKey } = mreq("@solana/web3.js");
  const { convertIdlToCamelCase } = mreq("@coral-xyz/anchor/dist/cjs/idl");
  // The SDK decodes with its anchor Program's idl, which anchor converts to camelCase.
  const idl = convertIdlToCamelCase(mreq("@mrgnlabs/marginfi-client-v2/dist/idl").MARGINFI_IDL);
  const client = mreq("@mrgnlabs/marginfi-client-v2");
  const common = mreq("@mrgnlabs/mrgn-common");
  const Decimal = createRequire(mreq.resolve("@mrgnlabs/mrgn-common"))("decimal.js");
  Decimal.set({ precision: 120 }); // exact for I80F48 (48 fractional bits)
  const coder = new BorshCoder(idl);
  const layout = coder.accounts.accountLayouts.get("bank");
  const size = coder.accounts.size("bank");
  const disc = coder.accounts.accountDiscriminator("bank");
  const out = [];
  for (const { set, get } of items) {
    const obj = coder.accounts.decode("bank", Buffer.concat([disc, Buffer.alloc(size - 8)]));
    for (const [p, v] of Object.entries(set)) setPath(obj, p, v, BN, PublicKey);
    // BorshAccountsCoder.encode() writes into a fixed 1000-byte buffer (anchor 0.30.1), too small
    // for a Bank; the same layout object encodes into a buffer of the IDL's account size.
    const body = Buffer.alloc(size - 8);
    layout.encode(obj, body);
    const data = Buffer.concat([disc, body]);
    const dec = client.decodeBankRaw(data, idl);
    const sdk = Object.fromEntries(get.map((p) => [p, show(getPath(dec, p))]));
    // The SDK's Bank model (parseBankRaw) throws on some encodable values: BN.toNumber() of
    // i64/u64 fields such as lastUpdate above 2^53, and the KilledByBankruptcy state it does not
    // list. The amounts then come from the same SDK functions the model uses
    // (wrappedI80F48toBigNumber, getTotalLiabilityQuantity), fed the decoded fields directly.
    const i80 = (w) => common.wrappedI80F48toBigNumber(w);
    const shares = {
      totalLiabilityShares: i80(dec.totalLiabilityShares),
      liabilityShareValue: i80(dec.liabilityShareValue),
      totalAssetShares: i80(dec.totalAssetShares),
      assetShareValue: i80(dec.assetShareValue),
    };
    let model = true;
    let bank = shares;
    try {
      bank = client.Bank.fromAccountParsed(new PublicKey(new Uint8Array(32)), dec);
    } catch (e) {
      if (!/53 bits|Invalid operational state/.test(String(e))) throw e;
      model = false;
    }
    out.push({
      data: data.toString("base64"),
      sdk,
      derived: {
        bank_model: String(model),
        total_liability_shares: bank.totalLiabilityShares.toFixed(),
        liability_share_value: bank.liabilityShareValue.toFixed(),
        total_liability_quantity: client.getTotalLiabilityQuantity(bank).toFixed(),
        total_asset_quantity: client.getTotalAssetQuantity(bank).toFixed(),
        last_oracle_price: i80(dec.cache.lastOraclePrice).toFixed(),
        mint_decimals: String(dec.mintDecimals),
        size: String(data.length),
      },
    });
  }
  return out;
}

function save(items) {
  const { ReserveLayout, RESERVE_SIZE, parseReserve } = sreq(
    "@solendprotocol/solend-sdk/state/reserve"
  );
  const BN = sreq("bn.js");
  const { PublicKey } = sreq("@solana/web3.js");
  return items.map(({ set, get }) => {
    const data = Buffer.alloc(RESERVE_SIZE);
    const obj = ReserveLayout.decode(data);
    for (const [p, v] of Object.entries(set)) setPath(obj, p, v, BN, PublicKey);
    ReserveLayout.encode(obj, data);
    const raw = ReserveLayout.decode(data);
    const sdk = Object.fromEntries(get.map((p) => [p, show(getPath(raw, p))]));
    const parsed = parseReserve(new PublicKey(new Uint8Array(32)), { data }).info;
    const derived = {
      "liquidity.mintPubkey": show(parsed.liquidity.mintPubkey),
      "liquidity.mintDecimals": show(parsed.liquidity.mintDecimals),
      "liquidity.borrowedAmountWads": show(parsed.liquidity.borrowedAmountWads),
      "liquidity.marketPrice": show(parsed.liquidity.marketPrice),
      lendingMarket: show(parsed.lendingMarket),
      size: String(data.length),
    };
    return { data: data.toString("base64"), sdk, derived };
  });
}

// The addresses the registry cites (src/lendscope/onchain/registry/solana.toml), as each SDK ships them.
function constants() {
  const fs = require("fs");
  const path = require("path");
  const kdir = path.dirname(kreq.resolve("@kamino-finance/klend-sdk/package.json"));
  const readme = fs.readFileSync(path.join(kdir, "README.md"), "utf8");
  const main = readme.match(/address\("([1-9A-HJ-NP-Za-km-z]{32,44})"\)\s*\/\/ main market address/);
  const configs = mreq("@mrgnlabs/marginfi-client-v2/dist/configs.json");
  const prod = configs.find((c) => c.label === "production" && c.cluster === "mainnet");
  const save = sreq("@solendprotocol/solend-sdk/core/constants");
  return {
    "kamino-lend-main": {
      program: String(kreq("@kamino-finance/klend-sdk/dist/@codegen/klend/programId").PROGRAM_ID),
      market: main ? main[1] : null,
    },
    "marginfi-main": { program: prod.program, market: prod.group },
    "save-main": {
      program: save.SOLEND_PRODUCTION_PROGRAM_ID.toBase58(),
      market: save.MAIN_POOL_ADDRESS.toBase58(),
    },
  };
}

async function main() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const req = JSON.parse(Buffer.concat(chunks).toString() || "{}");
  const out = {};
  if (req.kamino) out.kamino = kamino(req.kamino);
  if (req.marginfi) out.marginfi = await marginfi(req.marginfi);
  if (req.save) out.save = save(req.save);
  if (req.constants) out.constants = constants();
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + "\n");
  process.exit(1);
});
