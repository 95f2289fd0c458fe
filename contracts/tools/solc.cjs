#!/usr/bin/env node
// A solc executable for forge, backed by npm `solc` (soljson compiled to WebAssembly).
// This machine has no native solc and may not download one, so foundry.toml points here.
// forge only needs `--version` and `--standard-json` (input on stdin, output on stdout).
'use strict';
const solc = require('solc');

const args = process.argv.slice(2);

if (args.includes('--version') || args.includes('-v')) {
  // forge parses the "Version: x.y.z+commit..." line.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`, () =>
    process.exit(0),
  );
  return;
}

if (!args.includes('--standard-json')) {
  process.stderr.write(`consentry solc wrapper: only --version and --standard-json are supported (got: ${args.join(' ')})\n`);
  process.exit(2);
}

const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const input = Buffer.concat(chunks).toString('utf8');
  const fs = require('node:fs');
  const path = require('node:path');
  // forge inlines every source; the callback only serves a stray import relative to cwd.
  const findImports = (p) => {
    try {
      return { contents: fs.readFileSync(path.resolve(p), 'utf8') };
    } catch {
      return { error: `File not found: ${p}` };
    }
  };
  const output = solc.compile(input, { import: findImports });
  // Exit only once stdout has drained: a pipe takes 64 KiB at a time.
  process.stdout.write(output, () => process.exit(0));
});
