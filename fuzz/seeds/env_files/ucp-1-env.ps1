$Env:DOCKER_TLS_VERIFY = "1"
$Env:DOCKER_CERT_PATH = $(Split-Path $script:MyInvocation.MyCommand.Path)
$Env:DOCKER_HOST = "tcp://ucp.example.com:443"

#
# Bundle for user azure-devops
# UCP Instance ID saglbp0vlmk49n0clpopam8nv
#
# Run this command from within this directory to configure your shell:
# Import-Module .\env.ps1
