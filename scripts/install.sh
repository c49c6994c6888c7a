#!/usr/bin/env bash
# Makes the project's Node.js (pinned in .node-version; see scripts/lib/node.sh) available and
# installs the npm dependencies exactly as locked, only when they are missing or out of date.
# Scripts that run the service source scripts/lib/node.sh themselves; this one is their first step.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
source "$REPO/scripts/lib/node.sh"
project_node
stamp=node_modules/.installed-with-node
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ||
      "$(cat "$stamp" 2>/dev/null)" != "$(node -v)" ]]; then
  echo "install: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  node -v >"$stamp"
fi
