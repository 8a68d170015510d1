# slotd container image: build on Debian 12, run on debian:bookworm-slim with
# only the shared libraries the binary links against.
#
#   docker build -t slotd .
#   docker run --rm -e SLOTD_DATABASE_URL=postgresql://user:pw@db/slotd -p 8080:8080 slotd
#
# deploy/compose.yaml runs two replicas behind haproxy with PostgreSQL 15.

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc libc6-dev meson ninja-build pkg-config python3 \
      libuv1-dev node-llhttp libpq-dev libmbedtls-dev libjansson-dev libargon2-dev libical-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build -Dbuildtype=release -Dunit_tests=false \
 && meson compile -C /build \
 && install -D -s -m 0755 /build/slotd /out/slotd \
 && /out/slotd --version

FROM debian:bookworm-slim
# Runtime libraries of build/release/slotd (ldd): libuv1, libpq5, mbedtls 2.28
# (libmbedtls14, libmbedx509-1, libmbedcrypto7), libjansson4, libargon2-1, libical3.
# ca-certificates for outbound HTTPS (webhooks); tzdata for /usr/share/zoneinfo.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libuv1 libpq5 libmbedtls14 libmbedx509-1 libmbedcrypto7 libjansson4 libargon2-1 libical3 \
      ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin slotd
COPY --from=build /out/slotd /usr/local/bin/slotd

USER 10001:10001
ENV SLOTD_LISTEN=0.0.0.0:8080
EXPOSE 8080
# No curl in the image: bash's /dev/tcp speaks enough HTTP for a liveness probe
# (port taken from SLOTD_LISTEN; the probe goes to loopback).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "[[ $SLOTD_LISTEN =~ [0-9]+$ ]] && exec 3<>/dev/tcp/127.0.0.1/$BASH_REMATCH && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r -t 2 _ code _ <&3 && [[ $code == 200 ]]"]
# slotd drains on SIGTERM within SLOTD_SHUTDOWN_TIMEOUT (default 10 s).
STOPSIGNAL SIGTERM
CMD ["slotd", "serve"]
