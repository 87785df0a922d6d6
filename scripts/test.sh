#!/bin/sh
# Installs dependencies, builds routesim twice (gcc, and clang with
# AddressSanitizer + UndefinedBehaviorSanitizer) and runs the whole test
# suite with both builds (the tests against real Kafka brokers, label
# kafka, with the gcc build only, on their own), then builds the libFuzzer
# targets and runs them briefly.  The container image test
# (packaging_image: podman builds the Dockerfile and runs the image) is in
# the gcc build only too; it does not depend on how routesim is compiled
# here.  This is what CI runs.
set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (gcc, -Werror) and test"
cmake -S . -B build -DCMAKE_C_COMPILER=gcc -DBUILD_TESTING=ON \
    -DROUTESIM_REQUIRE_TEST_DEPS=ON >/dev/null
cmake --build build -j "$jobs"
(cd build && ctest -j "$jobs" --output-on-failure -LE kafka)

echo "== real Apache Kafka brokers (gcc build)"
(cd build && ctest -j "$jobs" --output-on-failure -L kafka)

echo "== build (clang, ASan + UBSan) and test"
cmake -S . -B build-asan -DCMAKE_C_COMPILER=clang -DROUTESIM_SANITIZE=ON \
    -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=ON \
    -DROUTESIM_REQUIRE_TEST_DEPS=ON >/dev/null
cmake --build build-asan -j "$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest -j "$jobs" --output-on-failure -LE kafka)

echo "== build fuzzers (clang, libFuzzer + ASan + UBSan), replay corpus, fuzz briefly"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DROUTESIM_FUZZ=ON \
    -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j "$jobs"
(cd build-fuzz && ctest -j "$jobs" --output-on-failure)
