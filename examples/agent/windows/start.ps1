# Registers this container as an Azure Pipelines agent and runs it.
#   AZP_URL         https://dev.azure.com/<organisation>
#   AZP_POOL        agent pool (default: Default)
#   AZP_AGENT_NAME  agent name (default: the computer name)
# The registration token is read from a file, never from a plain environment
# variable: AZP_TOKEN_FILE, default C:\ProgramData\Docker\secrets\azp_token (the Docker secret).
$ErrorActionPreference = 'Stop'

if (-not $env:AZP_URL) { throw 'Set AZP_URL to https://dev.azure.com/<organisation>' }
$tokenFile = if ($env:AZP_TOKEN_FILE) { $env:AZP_TOKEN_FILE } else { 'C:\ProgramData\Docker\secrets\azp_token' }
if (-not (Test-Path $tokenFile)) { throw "No registration token: mount the Docker secret azp_token or set AZP_TOKEN_FILE" }
$token = (Get-Content $tokenFile -Raw).Trim()

Set-Location C:\azp
if (-not (Test-Path .\config.cmd)) {
  Write-Host "Downloading the agent for $env:AZP_URL"
  $basic = [Convert]::ToBase64String([Text.Encoding]::ASCII.GetBytes("user:$token"))
  $packages = Invoke-RestMethod -Headers @{ Authorization = "Basic $basic" } `
    "$env:AZP_URL/_apis/distributedtask/packages/agent?platform=win-x64&`$top=1"
  Invoke-WebRequest $packages.value[0].downloadUrl -OutFile agent.zip
  Expand-Archive agent.zip -DestinationPath . ; Remove-Item agent.zip
}

$pool = if ($env:AZP_POOL) { $env:AZP_POOL } else { 'Default' }
$name = if ($env:AZP_AGENT_NAME) { $env:AZP_AGENT_NAME } else { $env:COMPUTERNAME }
.\config.cmd --unattended --replace --url $env:AZP_URL --auth PAT --token $token `
  --pool $pool --agent $name --work _work
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }

try {
  .\run.cmd
} finally {
  .\config.cmd remove --unattended --auth PAT --token $token
}
