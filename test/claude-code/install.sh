#!/usr/bin/env bash
# Installs Claude Code (its native binary comes as an npm optional dependency) and the AI SDK into
# test/claude-code/node_modules from this folder's package-lock.json, idempotently: quick when present.
# Kept out of the project's own dependencies so `npm install` for users stays small.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -x "$here/node_modules/.bin/claude" ] || [ ! -d "$here/node_modules/ai" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
fi
# npm may skip the postinstall that puts the platform binary in place; run it when `claude` cannot start.
if ! HOME="$(mktemp -d)" DISABLE_AUTOUPDATER=1 "$here/node_modules/.bin/claude" --version >/dev/null 2>&1; then
  (cd "$here/node_modules/@anthropic-ai/claude-code" && node install.cjs)
fi
echo "claude-code tools ready: $("$here/node_modules/.bin/claude" --version 2>/dev/null || echo 'claude does not start')"
