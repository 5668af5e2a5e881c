@echo off
set DOCKER_TLS_VERIFY=1
set COMPOSE_TLS_VERSION=TLSv1_2
set DOCKER_CERT_PATH=%~dp0
set DOCKER_HOST=tcp://ucp.example.com:443

kubectl >nul 2>&1
if %ERRORLEVEL% == 0 (
    set KUBECONFIG=
    kubectl config set-cluster ucp_ucp.example.com:6443_azure-devops --server https://ucp.example.com:6443 --certificate-authority "%~dp0ca.pem" --embed-certs
    kubectl config set-credentials ucp_ucp.example.com:6443_azure-devops --client-key "%~dp0key.pem" --client-certificate "%~dp0cert.pem" --embed-certs
    kubectl config set-context ucp_ucp.example.com:6443_azure-devops --user ucp_ucp.example.com:6443_azure-devops --cluster ucp_ucp.example.com:6443_azure-devops
)
set KUBECONFIG=%~dp0kube.yml

REM
REM Bundle for user azure-devops
REM UCP Instance ID saglbp0vlmk49n0clpopam8nv
REM
REM Run this command from within this directory to configure your shell:
REM .\env.cmd
