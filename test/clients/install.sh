#!/usr/bin/env bash
# Installs the real client libraries (test/clients/package-lock.json) into test/clients/node_modules,
# once, and again only when the lock file changes. test/integration/clients.test.ts calls it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "client libraries ready in $here/node_modules"
