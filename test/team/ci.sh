#!/usr/bin/env bash
# Team mode against real servers: Debian's redis-server and PostgreSQL, started by the tests themselves
# on loopback in temporary directories. Installs what is missing (as the editor suite installs
# code-server), builds, runs the suite. Ends with `team: N passed, M failed`; fails if any test does.
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "team: installing ${missing[*]} from Debian's packages"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
npm run build --silent
SHEPHERD_SUMMARY_PREFIX="team: " npx mocha --config test/team/.mocharc.json
