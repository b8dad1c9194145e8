#!/usr/bin/env bash
# Installs the Debian packages the lab and the tests need, only when one is missing (idempotent, fast when done).
# wrk: the C HTTP load generator of `make bench` (bench/*_serve*.py).
# python3-yaml: lab/hosts/labhost may run on the system python3 and reads the port table of lab/lab.yml.
# postgresql, libpq5: the fraud app's tests start throwaway clusters (initdb in a tmp dir); psycopg uses libpq5.
set -euo pipefail
PACKAGES=(systemd-container debootstrap socat zstd tinyproxy openssh-client numactl iproute2 bc curl python3-yaml wrk
  postgresql libpq5)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# tinyproxy is started by the lab on its own port; the distribution's service is not used.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now tinyproxy >/dev/null 2>&1 || true
elif [ -x /etc/init.d/tinyproxy ]; then
  # Without systemd as PID 1 the package's postinst starts it through its init script.
  $SUDO /etc/init.d/tinyproxy stop >/dev/null 2>&1 || true
  $SUDO update-rc.d tinyproxy disable >/dev/null 2>&1 || true
fi
# Likewise the distribution's PostgreSQL cluster (15/main on 5432): tests run their own, nothing uses this one.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now postgresql >/dev/null 2>&1 || true
elif [ -x /etc/init.d/postgresql ]; then
  $SUDO /etc/init.d/postgresql stop >/dev/null 2>&1 || true
  $SUDO update-rc.d postgresql disable >/dev/null 2>&1 || true
fi
