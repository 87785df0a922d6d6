#!/bin/sh
# Offline checks of the repository's shell, YAML, compose and Docker files.
# usage: lint.sh shell|yaml|json|compose|dockerfile   (run by ctest)
set -eu
cd "$(dirname "$0")/../.."

case "${1:-}" in
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
	echo "usage: $0 shell|yaml|json|compose|dockerfile" >&2
	exit 2
	;;
esac
