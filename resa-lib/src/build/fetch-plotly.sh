#!/bin/sh
# Fetches plotly.js (cartesian bundle, MIT) from the npm registry into the build output, once per clean build.
# Never committed: the jar carries it as dev/resa/viz/plotly/plotly.min.js with its LICENSE beside it.
#   usage: fetch-plotly.sh <package@version> <npm work dir> <resource dir>
set -eu
pkg="$1"; work="$2"; out="$3"
[ -s "$out/plotly.min.js" ] && exit 0
command -v npm >/dev/null || { echo "fetch-plotly: npm not found; install Node.js/npm (Debian: apt-get install npm)" >&2; exit 1; }
mkdir -p "$work" "$out"
tgz=$(cd "$work" && npm pack --silent "$pkg" | tail -n 1)
tar -xzf "$work/$tgz" -C "$work"
cp "$work"/package/*.min.js "$out/plotly.min.js"
cp "$work/package/LICENSE" "$out/LICENSE"
echo "$pkg" > "$out/VERSION"
