#!/bin/sh
# Runs a libFuzzer target for ctest.
#   run.sh replay BINARY FUZZDIR TARGET          every corpus/crash input once
#   run.sh fuzz BINARY FUZZDIR TARGET SECONDS    fuzz from the corpus
# New inputs go to a temporary directory, never into the repository; a
# crash leaves its reproducer in the build directory (crash-*), to be
# committed under FUZZDIR/crashes/TARGET once fixed.
set -eu
mode=$1 bin=$2 dir=$3 target=$4
corpus="$dir/corpus/$target"
crashes="$dir/crashes/$target"

case "$mode" in
replay)
	set -- "$corpus"
	[ -d "$crashes" ] && set -- "$@" "$crashes"
	exec "$bin" -runs=0 "$@"
	;;
fuzz)
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	"$bin" -max_total_time="$5" -print_final_stats=1 -timeout=10 \
	    -rss_limit_mb=2048 "$work" "$corpus"
	;;
*)
	echo "usage: $0 replay|fuzz BINARY FUZZDIR TARGET [SECONDS]" >&2
	exit 2
	;;
esac
