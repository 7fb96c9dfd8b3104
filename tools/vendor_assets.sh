#!/usr/bin/env bash
# Refresh the third-party browser assets the site serves itself (no CDN at run time).
# Run by hand when upgrading; the result is committed under docs/assets/vendor/.
# Needs npm (packages come from the npm registry).
set -euo pipefail
KATEX=0.19.1 MERMAID=11.17.2 IFRAME_WORKER=1.0.4   # mermaid 11 is the major Material 9.8 expects
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/docs/assets/vendor
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "katex@$KATEX" "mermaid@$MERMAID" "iframe-worker@$IFRAME_WORKER" >/dev/null
for f in *.tgz; do mkdir "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done
rm -rf "$out"; mkdir -p "$out"/{katex/fonts,katex/contrib,mermaid,iframe-worker}
k=katex-$KATEX/package
cp "$k"/dist/katex.min.{js,css} "$out/katex/"
cp "$k/dist/contrib/auto-render.min.js" "$out/katex/contrib/"
cp "$k"/dist/fonts/*.woff2 "$out/katex/fonts/"      # every browser we support reads woff2
cp "$k/LICENSE" "$out/katex/LICENSE.txt"
cp "mermaid-$MERMAID/package/dist/mermaid.min.js" "$out/mermaid/"
cp "mermaid-$MERMAID/package/LICENSE" "$out/mermaid/LICENSE.txt"
cp "iframe-worker-$IFRAME_WORKER/package/shim/index.js" "$out/iframe-worker/shim.js"
cp "iframe-worker-$IFRAME_WORKER/package/LICENSE" "$out/iframe-worker/LICENSE.txt"
echo "vendored katex $KATEX, mermaid $MERMAID, iframe-worker $IFRAME_WORKER into $out"
