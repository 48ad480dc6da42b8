#!/usr/bin/env bash
# The extension in a real VS Code: package the VSIX, install the editor tooling (idempotent: quick
# when already installed), then run the suite against code-server in Chromium. Fails if any check does.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run package --silent
test/editor/install.sh
node test/editor/run.mjs
