# routesim container image.
#
# Stage "build" compiles routesim and runs its unit tests; the runtime
# stage holds only the binary, its runtime libraries and the route files.
# The working directory /app holds destinations/ and is where a .env file
# (for example from a Kubernetes ConfigMap) is read, as the original did.

FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      librdkafka-dev libuv1-dev libcjson-dev libcmocka-dev uthash-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY include/ include/
COPY src/ src/
COPY tests/ tests/
COPY destinations/ destinations/
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build -j"$(nproc)" \
 && cd build && ctest -L unit --output-on-failure \
 && cmake --install . --prefix /out/usr/local --strip

FROM debian:bookworm-slim
# Runtime libraries only; their own dependencies come with them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 libuv1 libcjson1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /app \
      --shell /usr/sbin/nologin routesim
COPY --from=build /out/usr/local/bin/routesim /usr/local/bin/routesim
WORKDIR /app
COPY destinations/ destinations/
USER routesim
ENV ROUTESIM_HTTP_LISTEN=0.0.0.0:8080
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["routesim", "--healthcheck"]
ENTRYPOINT ["routesim"]
