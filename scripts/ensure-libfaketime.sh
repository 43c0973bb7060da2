#!/usr/bin/env bash
# Installs Debian's libfaketime for the chaos suite's clock nemeses, only when it is missing.
# The harness looks for it under /usr/lib/<multiarch>/faketime/ (harness/src/nemesis/libfaketime.ts).
# Idempotent and quiet; exits non-zero when libfaketime cannot be installed.
set -euo pipefail
found() { compgen -G '/usr/lib/*/faketime/libfaketime.so.1' >/dev/null; }
if found; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq libfaketime; } >"$log" 2>&1; then
  echo "ensure-libfaketime: apt-get failed:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
if ! found; then
  echo "ensure-libfaketime: /usr/lib/*/faketime/libfaketime.so.1 still missing after install" >&2
  exit 1
fi
