#!/usr/bin/env bash
# Install the Debian packages lendscope needs, only those missing.
#   scripts/system-deps.sh report   -> PDF rendering (Pango, HarfBuzz subsetter, DejaVu fonts)
#   scripts/system-deps.sh test     -> the above plus Chromium (browser tests) and Java (PySpark)
#   scripts/system-deps.sh venv     -> the venv module for Debian's python3.11
set -euo pipefail
want=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [[ "${1:-report}" == "venv" ]]; then
  want=(python3.11-venv)
fi
if [[ "${1:-report}" == "test" ]]; then
  want+=(chromium)  # the dashboard's browser tests drive /usr/bin/chromium
  if ! command -v java >/dev/null 2>&1; then
    # PySpark 4.0 runs on Java 17 or 21; Debian 12 ships 17, Debian 13 only 21 (default-jre)
    if apt-cache show openjdk-17-jre-headless >/dev/null 2>&1; then
      want+=(openjdk-17-jre-headless)
    else
      want+=(default-jre-headless)
    fi
  fi
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "installing Debian packages: ${missing[*]}" >&2
$SUDO apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
