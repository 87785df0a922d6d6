#!/bin/sh
# Offline checks of the repository's C, shell, YAML, JSON, Python, compose
# and Docker files.
# usage: lint.sh c|shell|yaml|json|python|compose|dockerfile   (ctest)
set -eu
cd "$(dirname "$0")/../.."

case "${1:-}" in
c)
	# Static analysis of every C file (daemon, tests, fuzzers, benchmark):
	# cppcheck, then clang's analyzer through clang-tidy.  Left out: the
	# C11 Annex K "insecure API" advice (snprintf, memcpy), the opt-in
	# checks (struct padding), and clang 14's va_list check, which flags
	# every va_start()/vsnprintf() pair.
	files="src/*.c tests/*.c tests/unit/*.c tests/fuzz/*.c bench/*.c"
	# shellcheck disable=SC2086  # the lists are split on purpose
	cppcheck --quiet --error-exitcode=1 --std=c11 \
	    --enable=warning,performance,portability -D_GNU_SOURCE -Iinclude \
	    $files
	# shellcheck disable=SC2046,SC2086
	clang-tidy --quiet --warnings-as-errors='*' \
	    --checks='-*,clang-analyzer-*,-clang-analyzer-security.insecureAPI.*,-clang-analyzer-optin.*,-clang-analyzer-valist.Uninitialized' \
	    $files -- -std=c17 -D_GNU_SOURCE -DRS_VERSION='"lint"' -Iinclude \
	    $(pkg-config --cflags rdkafka libuv libcjson cmocka libwebsockets)
	;;
shell)
	# Every shell script in the repository, found by name or by shebang.
	files=$(git ls-files 2>/dev/null || find . -type f -not -path './build*')
	scripts=""
	for f in $files; do
		case "$f" in
		*.sh) scripts="$scripts $f" ;;
		*) head -n 1 "$f" 2>/dev/null | grep -qE '^#!.*/(ba|da)?sh' &&
		    scripts="$scripts $f" ;;
		esac
	done
	echo "shellcheck:$scripts"
	# shellcheck disable=SC2086  # the list is split on purpose
	shellcheck $scripts
	;;
yaml)
	yamllint --strict .
	;;
compose)
	docker-compose -f docker-compose.yaml config -q
	for p in $(docker-compose -f docker-compose.yaml config --profiles); do
		echo "profile $p"
		docker-compose -f docker-compose.yaml --profile "$p" config -q
	done
	;;
python)
	# The test scripts: undefined names, unused imports.
	# shellcheck disable=SC2046  # the list is split on purpose
	pyflakes3 $(git ls-files '*.py')
	;;
json)
	for f in $(git ls-files '*.json'); do
		/usr/bin/python3 -m json.tool "$f" >/dev/null || {
			echo "invalid JSON: $f"
			exit 1
		}
	done
	;;
dockerfile)
	bin=.tools/node_modules/.bin
	"$bin/dockerfilelint" Dockerfile
	out=$("$bin/dockerfile-utils" lint Dockerfile)
	if [ -n "$out" ]; then
		echo "$out"
		exit 1
	fi
	;;
*)
	echo "usage: $0 c|shell|yaml|json|python|compose|dockerfile" >&2
	exit 2
	;;
esac
