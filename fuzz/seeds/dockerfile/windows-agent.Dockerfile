# escape=`
# A self-hosted Azure Pipelines agent for Windows containers.
ARG WINDOWS_VERSION=ltsc2022

FROM mcr.microsoft.com/windows/servercore:${WINDOWS_VERSION} AS download
ARG AGENT_VERSION
SHELL ["powershell", "-NoLogo", "-NoProfile", "-Command", "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue';"]
WORKDIR C:\download
RUN Invoke-WebRequest -Uri "https://vstsagentpackage.azureedge.net/agent/$env:AGENT_VERSION/vsts-agent-win-x64-$env:AGENT_VERSION.zip" -OutFile agent.zip; `
    Expand-Archive -Path agent.zip -DestinationPath C:\agent; `
    Remove-Item agent.zip

FROM mcr.microsoft.com/windows/servercore:${WINDOWS_VERSION} AS agent
SHELL ["powershell", "-NoLogo", "-NoProfile", "-Command", "$ErrorActionPreference = 'Stop';"]
COPY --from=download C:\agent C:\azp
RUN New-Item -ItemType Directory -Path C:\azp\_work | Out-Null; `
    # the work folder survives container restarts on a volume
    [Environment]::SetEnvironmentVariable('AZP_WORK', 'C:\azp\_work', 'Machine')
WORKDIR C:\azp
COPY start.ps1 .
CMD ["powershell", "-File", "C:\\azp\\start.ps1"]
