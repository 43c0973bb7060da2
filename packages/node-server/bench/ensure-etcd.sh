#!/usr/bin/env bash
# Prints the path of an etcd binary for `npm run bench -- --vs etcd`: $ETCD_BIN when set, else the
# one on PATH, else Debian's etcd-server (3.4), installed here when missing. Quiet on success;
# exits non-zero with the reason when no etcd can be had.
set -euo pipefail
if [ -n "${ETCD_BIN:-}" ]; then
  if [ ! -x "$ETCD_BIN" ]; then
    echo "ensure-etcd: ETCD_BIN=$ETCD_BIN is not an executable file" >&2
    exit 1
  fi
  echo "$ETCD_BIN"
  exit 0
fi
found=$(command -v etcd || true)
if [ -z "$found" ] && [ -x /usr/bin/etcd ]; then found=/usr/bin/etcd; fi
if [ -n "$found" ]; then
  echo "$found"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq etcd-server; } >"$log" 2>&1; then
  echo "ensure-etcd: apt-get failed:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
if [ ! -x /usr/bin/etcd ]; then
  echo "ensure-etcd: /usr/bin/etcd still missing after installing etcd-server" >&2
  exit 1
fi
echo /usr/bin/etcd
