#!/usr/bin/env bash
# Registers this container as an Azure Pipelines agent and runs it.
#   AZP_URL         https://dev.azure.com/<organisation>
#   AZP_POOL        agent pool (default: Default)
#   AZP_AGENT_NAME  agent name (default: the container's host name)
# The registration token (a PAT with Agent Pools: Read & manage) is read from a
# file, never from a plain environment variable, which `docker inspect` shows:
#   AZP_TOKEN_FILE  path of the token (default: /run/secrets/azp_token, the Docker secret)
set -euo pipefail

: "${AZP_URL:?set AZP_URL to https://dev.azure.com/<organisation>}"
token_file=${AZP_TOKEN_FILE:-/run/secrets/azp_token}
if [ ! -r "$token_file" ]; then
  echo "error: no registration token: mount it as the Docker secret azp_token or set AZP_TOKEN_FILE" >&2
  exit 1
fi
AZP_TOKEN=$(tr -d '\r\n' < "$token_file")

cd /azp
if [ ! -x ./config.sh ]; then
  echo "Downloading the agent for ${AZP_URL}"
  package_url=$(curl -fsSL -u "user:${AZP_TOKEN}" \
    "${AZP_URL}/_apis/distributedtask/packages/agent?platform=linux-x64&top=1" \
    | jq -r '.value[0].downloadUrl')
  curl -fsSL "$package_url" | tar -xz
fi

# AZP_TOKEN is unset before the agent runs, so the clean-up reads the file again.
cleanup() {
  ./config.sh remove --unattended --auth PAT --token "$(tr -d '\r\n' < "$token_file")" || true
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

./config.sh --unattended --replace --acceptTeeEula \
  --url "$AZP_URL" --auth PAT --token "$AZP_TOKEN" \
  --pool "${AZP_POOL:-Default}" --agent "${AZP_AGENT_NAME:-$(hostname)}" --work _work

# The agent must not see the token; the pipeline gets its own job token.
unset AZP_TOKEN
./run.sh "$@" &
wait $!
