# PostgreSQL 15 for tests/container/run, on the same Debian 12 base as the slotd image (Debian's
# postgresql-15 package; the registry's postgres:15 image is not reachable from the test machines).
# The cluster is made when the container starts (tests/container/run passes the command), not
# here: every run starts from an empty database.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN export DEBIAN_FRONTEND=noninteractive \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql-common \
 && sed -ri 's/^#?\s*create_main_cluster\s*=.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
USER postgres
STOPSIGNAL SIGINT
