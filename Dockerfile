# Parley in a container: a static binary (CGO off) on a distroless base,
# with no shell, running as an unprivileged user, its data in a volume.
#
#   docker build -t parley .
#   docker run -p 8080:8080 -v parley-data:/data \
#     -e PARLEY_BASE_URL=https://chat.example.com -e PARLEY_TRUSTED_PROXIES=172.17.0.1/32 parley
#
# docs/operations.md has the rest: TLS, backups, a reverse proxy, upgrades.

FROM golang:1.26.11-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN sh deploy/build /out/parley \
	&& mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/parley /usr/local/bin/parley
# The volume's mount point belongs to the user Parley runs as, so that a
# fresh named volume is writable.
COPY --from=build --chown=65532:65532 /out/data /data
ENV PARLEY_DATA=/data \
	PARLEY_ADDR=0.0.0.0:8080 \
	PARLEY_LOG_FORMAT=json
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
# parley healthcheck asks GET /healthz of PARLEY_ADDR: no shell, no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
	CMD ["/usr/local/bin/parley", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/parley"]
CMD ["serve"]
