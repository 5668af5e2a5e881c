# syntax=docker/dockerfile:1.7
# A self-hosted Azure Pipelines agent for Linux with kubectl and helm.
ARG UBUNTU_VERSION=22.04
ARG KUBECTL_VERSION=1.30.4
ARG HELM_VERSION=3.15.4

FROM curlimages/curl:8.9.1 AS kubectl
ARG KUBECTL_VERSION
ARG TARGETARCH
RUN curl -fsSLo /tmp/kubectl "https://dl.k8s.io/release/v${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl" \
 && chmod +x /tmp/kubectl

FROM curlimages/curl:8.9.1 AS helm
ARG HELM_VERSION TARGETARCH
RUN curl -fsSL "https://get.helm.sh/helm-v${HELM_VERSION}-linux-${TARGETARCH}.tar.gz" \
    | tar -xz -C /tmp \
 && mv "/tmp/linux-${TARGETARCH}/helm" /tmp/helm

FROM curlimages/curl:8.9.1 AS agent-download
ARG AGENT_VERSION=4.264.2
WORKDIR /tmp/agent
RUN curl -fsSL "https://vstsagentpackage.azureedge.net/agent/${AGENT_VERSION}/vsts-agent-linux-x64-${AGENT_VERSION}.tar.gz" \
    | tar -xz

FROM ubuntu:${UBUNTU_VERSION} AS agent
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      # git is needed by the checkout step
      git \
      jq \
 && rm -rf /var/lib/apt/lists/*
COPY --from=kubectl /tmp/kubectl /usr/local/bin/kubectl
COPY --from=1 /tmp/helm /usr/local/bin/helm
COPY --from=agent-download --chown=1000:1000 /tmp/agent /azp
COPY --chmod=755 <<"EOF" /azp/start.sh
#!/bin/bash
set -euo pipefail
cd /azp
./config.sh --unattended --url "$AZP_URL" --auth PAT --token "$(cat "$AZP_TOKEN_FILE")" \
  --pool "${AZP_POOL:-Default}" --agent "${AZP_AGENT_NAME:-$(hostname)}"
exec ./run.sh
EOF
RUN useradd -m -u 1000 agent
USER agent
WORKDIR /azp
ENTRYPOINT ["/azp/start.sh"]
