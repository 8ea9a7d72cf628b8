#!/usr/bin/env bash
# Install the Debian packages lendscope needs, only those missing.
#   scripts/system-deps.sh report   -> PDF rendering (Pango, HarfBuzz subsetter, DejaVu fonts)
#   scripts/system-deps.sh test     -> the above plus Chromium (browser tests) and Java 17 (PySpark)
set -euo pipefail
want=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [[ "${1:-report}" == "test" ]]; then
  want+=(chromium)  # the dashboard's browser tests drive /usr/bin/chromium
  command -v java >/dev/null 2>&1 || want+=(openjdk-17-jre-headless)
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
