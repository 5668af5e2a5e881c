# A Dockerfile with the mistakes the analysis exists for.
ARG BASE_IMAGE
ARG VERSION=1.0
FROM ${BASE_IMAGE}
LABEL org.example.note="first stage"

FROM alpine:3.20 AS final
# VERSION is global only: empty in this stage
RUN echo "version $VERSION" > /version
LABEL version=$VERSION
