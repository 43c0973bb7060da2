#!/usr/bin/env bash
# Installs Debian's chromium for the checker's browser test, only when it is missing.
# Idempotent and quiet; exits non-zero when chromium cannot be installed.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq chromium; } >"$log" 2>&1; then
  echo "ensure-chromium: apt-get failed:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "ensure-chromium: /usr/bin/chromium still missing after install" >&2
  exit 1
fi
