#!/bin/sh
# Installs what routesim needs to build and test on Debian 12 / Ubuntu.
# Runs apt-get only for packages that are missing; needs root or sudo.
set -eu

PACKAGES="build-essential cmake pkg-config clang libclang-rt-14-dev
librdkafka-dev libuv1-dev libcjson-dev libcmocka-dev
kcat python3 python3-kafka"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps.sh: need root or sudo to install:$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086  # word splitting of the list is intended
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
