# syntax=docker/dockerfile:1
# A .NET web application: restore and publish with the SDK, run on ASP.NET.
ARG DOTNET_VERSION=8.0

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS base
WORKDIR /app
EXPOSE 8080

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
ARG BUILD_CONFIGURATION=Release
WORKDIR /src
COPY ["src/Techorama.Web/Techorama.Web.csproj", "src/Techorama.Web/"]
# The NuGet feed token reaches restore without entering the image history.
RUN --mount=type=secret,id=nuget,env=NUGET_TOKEN \
    dotnet restore "src/Techorama.Web/Techorama.Web.csproj"
COPY . .
WORKDIR "/src/src/Techorama.Web"
RUN dotnet build "Techorama.Web.csproj" -c $BUILD_CONFIGURATION -o /app/build

FROM build AS publish
ARG BUILD_CONFIGURATION=Release
RUN dotnet publish "Techorama.Web.csproj" \
        -c ${BUILD_CONFIGURATION} \
        -o /app/publish \
        /p:UseAppHost=false

FROM base AS runtime
ARG COMMIT_ID
LABEL com.example.commit="${COMMIT_ID:-unknown}"
ENV ASPNETCORE_URLS=http://+:8080 \
    COMMIT_ID=${COMMIT_ID}
WORKDIR /app
COPY --from=publish /app/publish .
USER $APP_UID
ENTRYPOINT ["dotnet", "Techorama.Web.dll"]
