#!/usr/bin/env bash
# Runs a command under the project's Node.js (scripts/lib/node.sh): `scripts/with-node.sh node x.js`.
# The npm scripts go through it, so `npm run bench` and the rest use the pinned runtime even when
# npm itself was started by an older machine `node`.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$REPO/scripts/lib/node.sh"
project_node >&2
exec "$@"
