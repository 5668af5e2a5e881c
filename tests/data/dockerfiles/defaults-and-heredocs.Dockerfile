# syntax=docker/dockerfile:1
# Defaults in FROM, a required build-arg, and heredocs with delimiters
# that are more than letters and digits.
ARG REGISTRY
ARG ALPINE_VERSION
ARG VARIANT
ARG APP_VERSION=1.0.0
FROM ${REGISTRY:-docker.io}/library/alpine:${ALPINE_VERSION:-3.20}${VARIANT:+-$VARIANT} AS build
ARG APP_VERSION
ENV APP_VERSION=${APP_VERSION:?pass APP_VERSION as a build-arg}
RUN <<END-OF-SCRIPT
#!/bin/sh
set -eu
FROM=not-an-instruction
echo "building ${APP_VERSION}" > /version
END-OF-SCRIPT
COPY <<"END-CONF" /etc/app/app.conf
version=${APP_VERSION}
END-CONF

FROM docker.io/library/alpine:${ALPINE_VERSION:-3.20} AS runtime
COPY --from=build /version /etc/app/app.conf /srv/
ONBUILD RUN <<EOF
FROM the-image-built-on-this-one
EOF
USER nobody
