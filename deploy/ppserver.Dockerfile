# ppserver, the PPSharp node, as a container image on the .NET runtime image. Build from the repository root:
#   docker build -f deploy/ppserver.Dockerfile -t ppsharp/ppserver:0.1.0 .
# The node runs as the image's non-root "app" user; the code clients upload is cached under /cache, a volume, so a
# restarted container (or a persistent volume) keeps it. The secret comes from PPSHARP_SECRET, never the command line.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/PPSharp.Server/PPSharp.Server.csproj -c Release -o /app --no-self-contained

FROM mcr.microsoft.com/dotnet/runtime:10.0
WORKDIR /app
COPY --from=build /app .
ENV XDG_CACHE_HOME=/cache
RUN mkdir -p /cache && chown "$APP_UID" /cache
VOLUME /cache
USER $APP_UID
EXPOSE 35000
# -i 0.0.0.0 needs a secret (PPSHARP_SECRET); -o writes the address once listening, which the readiness probe reads.
ENTRYPOINT ["dotnet", "/app/ppserver.dll", "-i", "0.0.0.0", "-p", "35000", "-o", "/tmp/ppserver.address"]
