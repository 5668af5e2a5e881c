@echo off
set DOCKER_TLS_VERIFY=1
set COMPOSE_TLS_VERSION=TLSv1_2
set DOCKER_CERT_PATH=%~dp0
set DOCKER_HOST=tcp://ucp.example.com:443

REM
REM Bundle for user azure-devops
REM UCP Instance ID saglbp0vlmk49n0clpopam8nv
REM
REM Run this command from within this directory to configure your shell:
REM .\env.cmd
