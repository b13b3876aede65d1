#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through Playwright; install it (and a CJK font, so that
# screenshots show Chinese) when missing. Needs root; otherwise browser tests are skipped, and say so.
set -uo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qiE "wenquanyi|noto sans cjk" || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages for the browser tests: ${need[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null) \
    || echo "WARNING: could not install ${need[*]}: browser tests may be SKIPPED"
else
  echo "WARNING: ${need[*]} missing and this user cannot apt-get: browser tests may be SKIPPED"
fi
