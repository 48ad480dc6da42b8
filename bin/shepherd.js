#!/usr/bin/env node
// The `shepherd` command: the bundled daemon CLI (built by `npm run build`).
require('../dist/daemon.js');
