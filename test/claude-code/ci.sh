#!/usr/bin/env bash
# Claude Code and the Anthropic SDK clients against the built daemon: build, install the clients
# (idempotent), run the checks. Ends with `claude-code: N passed, M failed`; fails if any check does.
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run build --silent
test/claude-code/install.sh
node test/claude-code/run.mjs
