#!/usr/bin/env bash
# System packages the tests need beyond Python: Debian's Chromium (the browser test drives it
# through Playwright; no browser download) and a CJK font so Chinese renders in screenshots.
# Installs only what is missing; needs root (or sudo) and Debian's apt.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "install-system-deps: cannot install ${need[*]} (not root, no sudo); the browser test will say so" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: no apt-get here; install ${need[*]} by hand for the browser test" >&2
  exit 0
fi
echo "install-system-deps: installing ${need[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
