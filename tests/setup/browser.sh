#!/usr/bin/env bash
# The admin page's browser tests: Debian's chromium, driven by playwright-core (pinned in
# tests/browser/package-lock.json; no browser download).
set -euo pipefail
cd "$(dirname "$0")/../browser"

if ! command -v chromium >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d node_modules ]; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi
