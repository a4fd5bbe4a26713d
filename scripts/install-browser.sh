#!/usr/bin/env bash
# Installs the headless browser the end-to-end board tests drive: Debian's chromium and
# chromium-driver, only when /usr/bin/chromium or /usr/bin/chromedriver is missing.
set -euo pipefail

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  exit 0
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y chromium chromium-driver
