#!/usr/bin/env bash
# Re-fetch every vendored front-end asset from the npm registry with `npm pack`.
#
#   bash static/vendor/fetch.sh
#
# Versions are pinned below; the htmx file is checked against a known SHA-256.
# Idempotent: running it twice leaves the tree unchanged. Needs node/npm and tar.
set -euo pipefail

HTMX_VERSION="2.0.11"
HTMX_SHA256="d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
LUCIDE_VERSION="1.62.0"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
icons_dir="$root/templates/icons"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"

# htmx --------------------------------------------------------------------
npm pack --silent "htmx.org@${HTMX_VERSION}" >/dev/null
mkdir htmx && tar -xzf "htmx.org-${HTMX_VERSION}.tgz" -C htmx
actual="$(sha256sum htmx/package/dist/htmx.min.js | cut -d' ' -f1)"
if [ "$actual" != "$HTMX_SHA256" ]; then
  echo "htmx.min.js checksum mismatch: expected $HTMX_SHA256, got $actual" >&2
  exit 1
fi
# Keep exactly one htmx file: remove other pinned versions, then install.
find "$here" -maxdepth 1 -name 'htmx-*.min.js' ! -name "htmx-${HTMX_VERSION}.min.js" -delete
install -m 0644 htmx/package/dist/htmx.min.js "$here/htmx-${HTMX_VERSION}.min.js"

# Lucide icons -------------------------------------------------------------
npm pack --silent "lucide-static@${LUCIDE_VERSION}" >/dev/null
mkdir lucide && tar -xzf "lucide-static-${LUCIDE_VERSION}.tgz" -C lucide
mkdir -p "$icons_dir"
install -m 0644 lucide/package/LICENSE "$icons_dir/LICENSE"

# Rewrite each listed icon as one inline, decorative SVG line:
# class="icon icon-<name>", aria-hidden, focusable=false, stroke=currentColor.
grep -v -e '^#' -e '^[[:space:]]*$' "$here/icons.txt" | while read -r name; do
  src="lucide/package/icons/${name}.svg"
  if [ ! -f "$src" ]; then
    echo "unknown lucide icon: $name" >&2
    exit 1
  fi
  node - "$src" "$name" > "$icons_dir/${name}.svg" <<'JS'
const fs = require("fs");
const [src, name] = process.argv.slice(2);
let svg = fs.readFileSync(src, "utf8")
  .replace(/<!--[\s\S]*?-->/g, "")
  .replace(/\s*\n\s*/g, " ")
  .replace(/\s+\/>/g, "/>")
  .replace(/>\s+</g, "><")
  .trim();
svg = svg.replace(/<svg\b[^>]*>/, () =>
  `<svg class="icon icon-${name}" xmlns="http://www.w3.org/2000/svg" width="24" height="24" ` +
  `viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" ` +
  `stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">`);
process.stdout.write(svg + "\n");
JS
done

# Remove icons that are no longer listed (LICENSE and README stay).
for f in "$icons_dir"/*.svg; do
  [ -e "$f" ] || continue
  n="$(basename "$f" .svg)"
  grep -qx -- "$n" "$here/icons.txt" || rm -f "$f"
done

echo "htmx ${HTMX_VERSION} and $(ls "$icons_dir"/*.svg | wc -l) lucide-static ${LUCIDE_VERSION} icons in place."
