#!/usr/bin/env bash
# Re-fetch axe-core (the accessibility rules the browser tests run in every page) from the npm
# registry with `npm pack`; only the minified file and its licence are kept.
#
#   make vendor-test
#
# The version is pinned and the file checked against a known SHA-256. Idempotent.
set -euo pipefail

AXE_VERSION="4.14.1"
AXE_SHA256="29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

npm pack --silent "axe-core@${AXE_VERSION}" >/dev/null
tar -xzf "axe-core-${AXE_VERSION}.tgz"
actual="$(sha256sum package/axe.min.js | cut -d' ' -f1)"
if [ "$actual" != "$AXE_SHA256" ]; then
  echo "axe.min.js checksum mismatch: expected $AXE_SHA256, got $actual" >&2
  exit 1
fi
install -m 0644 package/axe.min.js "$here/axe.min.js"
install -m 0644 package/LICENSE "$here/axe-LICENSE"
echo "axe-core ${AXE_VERSION} in place."
