#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through Playwright; install it when missing (needs root).
set -uo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "WARNING: could not install chromium: browser tests will be SKIPPED"
else
  echo "WARNING: chromium is not installed and this user cannot apt-get it: browser tests will be SKIPPED"
fi
