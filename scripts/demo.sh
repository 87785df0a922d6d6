#!/bin/sh
# Installs what the build needs, builds routesim and runs its demo: an
# in-process Kafka (librdkafka's mock cluster), routes 1 2 3, and the live
# map on http://127.0.0.1:8080 until Ctrl-C.  Extra arguments go to
# routesim --demo (route names, --once, --http-listen ...).
set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh build
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target routesim
exec build/routesim --demo "$@"
