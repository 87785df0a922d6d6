# routesim container image: routesim (the entry point) and
# routesim-tracker, the live map (run it with --entrypoint
# routesim-tracker, or Kubernetes' command).
#
# Stage "build" compiles both, with the map's page (npm fetches Leaflet
# and esbuild), and runs the unit tests; the runtime stage holds only the
# binaries, their runtime libraries and the route files.
# The working directory /app holds destinations/ and is where a .env file
# (for example from a Kubernetes ConfigMap) is read, as the original did.

FROM debian:bookworm AS build
# npm fetches the page's packages over HTTPS.  Behind a TLS-intercepting
# proxy, give node its certificate authority, e.g. with podman:
#   -v /etc/ssl/certs/ca-certificates.crt:/run/ca.crt:ro
#   --build-arg NODE_EXTRA_CA_CERTS=/run/ca.crt
ARG NODE_EXTRA_CA_CERTS
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      librdkafka-dev libuv1-dev libcjson-dev libcmocka-dev uthash-dev \
      libwebsockets-dev libwebsockets-evlib-uv nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY web/ web/
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
# libwebsockets-evlib-uv is libwebsockets' libuv plugin, loaded at run
# time: without it routesim cannot serve HTTP and exits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 libuv1 libcjson1 libwebsockets17 libwebsockets-evlib-uv \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /app \
      --shell /usr/sbin/nologin routesim
COPY --from=build /out/usr/local/bin/routesim \
     /out/usr/local/bin/routesim-tracker /usr/local/bin/
WORKDIR /app
COPY destinations/ destinations/
USER routesim
ENV ROUTESIM_HTTP_LISTEN=0.0.0.0:8080
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["routesim", "--healthcheck"]
ENTRYPOINT ["routesim"]
