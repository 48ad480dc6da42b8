#!/usr/bin/env node
// The `shepherd` command: the bundled daemon CLI (built by `npm run build`).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const daemon = join(__dirname, '..', 'dist', 'daemon.js');
if (!existsSync(daemon)) {
  process.stderr.write(`shepherd: ${daemon} is missing; run "npm run build" in ${join(__dirname, '..')} first\n`);
  process.exit(1);
}
require(daemon);
