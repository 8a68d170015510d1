# slotd container image: build on Debian 12, run on debian:bookworm-slim with
# only the shared libraries the binary links against.
#
#   docker build -t slotd .
#   docker run --rm -e SLOTD_DATABASE_URL=postgresql://user:pw@db/slotd -p 8080:8080 slotd
#
# deploy/compose.yaml runs two replicas behind haproxy with PostgreSQL 15.
#
# BASE selects the Debian 12 image both stages start from. The default is Docker Hub's
# debian:bookworm-slim; any bookworm root file system works, e.g. one made without a registry
# (tests/container/run does this):
#
#   mmdebstrap --variant=minbase bookworm - | docker import - bookworm-minbase
#   docker build --build-arg BASE=bookworm-minbase -t slotd .
#
# Such an image differs from bookworm-slim in ways the steps below do not depend on: it has no
# image config (no PATH, set below), no apt settings that drop downloaded .debs (apt-get clean
# does it here), and it keeps docs and man pages (not needed, not removed). Both have bash (the
# HEALTHCHECK), passwd (useradd) and apt with an empty package list (apt-get update first).
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc libc6-dev meson ninja-build pkg-config python3 \
      libuv1-dev node-llhttp libpq-dev libmbedtls-dev libjansson-dev libargon2-dev libical-dev \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build -Dbuildtype=release -Dunit_tests=false \
 && meson compile -C /build \
 && install -D -s -m 0755 /build/slotd /out/slotd \
 && /out/slotd --version

FROM ${BASE}
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Runtime libraries of build/release/slotd (ldd): libuv1, libpq5, mbedtls 2.28
# (libmbedtls14, libmbedx509-1, libmbedcrypto7), libjansson4, libargon2-1, libical3.
# ca-certificates for outbound HTTPS (webhooks); tzdata for /usr/share/zoneinfo.
# No compiler, linker or headers: tests/container/run checks that none is in PATH.
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      libuv1 libpq5 libmbedtls14 libmbedx509-1 libmbedcrypto7 libjansson4 libargon2-1 libical3 \
      ca-certificates tzdata bash passwd \
 && apt-get clean \
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
