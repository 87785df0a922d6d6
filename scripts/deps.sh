#!/bin/sh
# Installs what routesim needs on Debian 12 / Ubuntu: Debian packages with
# apt-get (only those missing; needs root or sudo).
#   deps.sh build   what building routesim needs (scripts/demo.sh)
#   deps.sh         that, and everything the tests use, including pinned
#                   npm tools (Dockerfile linters, Kubernetes schemas) in
#                   the git-ignored .tools/, and podman, runc and
#                   debootstrap, which build and run the container image
#                   in its test (scripts/base-images.sh), Java and Maven
#                   for the real Kafka brokers of `ctest -L kafka`
#                   (scripts/test.sh)
set -eu
cd "$(dirname "$0")/.."

BUILD="build-essential cmake pkg-config librdkafka-dev libuv1-dev
libcjson-dev uthash-dev"
TEST="clang libclang-rt-14-dev libcmocka-dev kcat python3 python3-kafka
python3-kubernetes python3-yaml shellcheck yamllint docker-compose nodejs
cppcheck clang-tidy pyflakes3 podman runc debootstrap default-jre-headless
maven openssl"
case "${1:-all}" in
build) PACKAGES=$BUILD ;;
all)
	PACKAGES="$BUILD $TEST"
	command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"
	;;
*)
	echo "usage: $0 [build]" >&2
	exit 2
	;;
esac

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

[ "${1:-all}" = build ] && exit 0

# Offline linters and validators that Debian lacks (hadolint, Kubernetes
# schemas), pinned; re-installed when this list changes.
NPM_TOOLS="dockerfilelint@1.8.0 dockerfile-utils@0.16.3 kubernetes-models@4.5.1
js-yaml@4.1.0"
if [ "$(cat .tools/installed 2>/dev/null)" != "$NPM_TOOLS" ]; then
	echo "deps.sh: installing npm tools into .tools/"
	mkdir -p .tools
	# shellcheck disable=SC2086  # the list is split on purpose
	npm install --prefix .tools --no-audit --no-fund --no-save \
	    --loglevel=error $NPM_TOOLS
	echo "$NPM_TOOLS" >.tools/installed
fi
