// Compile Solidity from node_modules with solcjs (standard JSON); used by tests/evm/harness.py.
// usage: node compile.js <config.json> <out.json>
// config: {solc, root, files, settings, remappings: [[prefix, dir], ...]}
const path = require("path");
const fs = require("fs");
const [configFile, outFile] = process.argv.slice(2);
const cfg = JSON.parse(fs.readFileSync(configFile, "utf8"));
const solc = require(path.resolve(__dirname, "node_modules", cfg.solc));
const sources = {};
for (const f of cfg.files) sources[f] = { content: fs.readFileSync(path.join(cfg.root, f), "utf8") };
function findImports(p) {
  const candidates = [];
  for (const [prefix, dir] of cfg.remappings || []) {
    if (p.startsWith(prefix)) candidates.push(path.join(dir, p.slice(prefix.length)));
  }
  candidates.push(path.join(cfg.root, p));
  for (const f of candidates) if (fs.existsSync(f)) return { contents: fs.readFileSync(f, "utf8") };
  return { error: "not found: " + p };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    ...cfg.settings,
    outputSelection: {
      "*": { "*": ["abi", "evm.bytecode.object", "evm.bytecode.linkReferences", "evm.deployedBytecode.object"] },
    },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errs = (out.errors || []).filter((e) => e.severity === "error");
for (const e of errs.slice(0, 10)) console.error(e.formattedMessage);
const res = {};
for (const [file, cs] of Object.entries(out.contracts || {}))
  for (const [name, c] of Object.entries(cs))
    res[name] = {
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
      deployedBytecode: "0x" + c.evm.deployedBytecode.object,
      linkReferences: c.evm.bytecode.linkReferences,
      source: file,
    };
fs.writeFileSync(outFile, JSON.stringify(res));
console.error(`solc ${solc.version()}: ${Object.keys(res).length} contracts, errors=${errs.length}`);
process.exit(errs.length ? 1 : 0);
