#!/bin/sh
# Installs what routesim needs to build and test on Debian 12 / Ubuntu:
# Debian packages with apt-get (only those missing; needs root or sudo)
# and two Dockerfile linters from npm into .tools/ (git-ignored).
set -eu
cd "$(dirname "$0")/.."

PACKAGES="build-essential cmake pkg-config clang libclang-rt-14-dev
librdkafka-dev libuv1-dev libcjson-dev libcmocka-dev
kcat python3 python3-kafka shellcheck yamllint docker-compose"
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
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
	# shellcheck disable=SC2086  # the list is split on purpose
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
	    --no-install-recommends $missing
fi

# Offline Dockerfile linters (no hadolint in Debian), pinned.
if [ ! -x .tools/node_modules/.bin/dockerfilelint ] ||
    [ ! -x .tools/node_modules/.bin/dockerfile-utils ]; then
	echo "deps.sh: installing Dockerfile linters into .tools/"
	mkdir -p .tools
	npm install --prefix .tools --no-audit --no-fund --no-save \
	    --loglevel=error dockerfilelint@1.8.0 dockerfile-utils@0.16.3
fi
