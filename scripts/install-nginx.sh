#!/usr/bin/env bash
# Makes sure nginx is available (Debian package), installing it when missing and allowed: the
# reverse proxy of the scale profile (README › Deploying, "Scale-out"), which routes Matrix client
# paths to Synapse's workers and balances the portal API processes. Prints the binary's path.
set -euo pipefail
if [ -x /usr/sbin/nginx ]; then echo /usr/sbin/nginx; exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing nginx (Debian package)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends nginx >&2
  # The package starts a system service on port 80; the project starts its own on a free port.
  (systemctl disable --now nginx >/dev/null 2>&1 || service nginx stop >/dev/null 2>&1 || true)
  echo /usr/sbin/nginx
  exit 0
fi
echo "nginx is missing: install it (apt-get install nginx) to run STACK_PROFILE=scale" >&2
exit 1
