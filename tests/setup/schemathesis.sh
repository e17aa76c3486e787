#!/usr/bin/env bash
# schemathesis (property-based API testing, from PyPI) in its own virtualenv under target/,
# pinned so that a new release never changes what CI checks. Does nothing when already there.
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=4.32.5
VENV=target/schemathesis
if "$VENV/bin/st" --version 2>/dev/null | grep -q "$VERSION"; then
    exit 0
fi
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
