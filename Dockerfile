# syntax=docker/dockerfile:1
#
# pgStack API server image: one static Go binary on a distroless base.
#
#   docker build -t pgstack .
#   docker run --rm -e DATABASE_URL=... -e JWT_SECRET=... -p 8080:8080 pgstack
#
# The container runs `pgstack serve`; it is configured entirely through
# environment variables (see .env.example and docs/deploy.md).

# go.mod requires Go >= 1.26.8 and the official golang image sets
# GOTOOLCHAIN=local, so the builder must be at least that release. The
# floating 1.26 tag tracks the newest 1.26.x; rebuild with --pull to refresh it.
ARG GO_VERSION=1.26

# ---------------------------------------------------------------------------
# Build stage. It runs on the build host's platform and cross-compiles for the
# target platform, so multi-arch builds (buildx --platform) need no emulation.
# ---------------------------------------------------------------------------
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build

WORKDIR /src

# Modules are downloaded in their own layer, which is rebuilt only when
# go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

COPY . .

ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS="$TARGETOS" GOARCH="$TARGETARCH" \
    go build -trimpath -ldflags="-s -w" -o /out/pgstack ./cmd/pgstack

# ---------------------------------------------------------------------------
# Runtime stage: no shell, no package manager; CA certificates, tzdata and an
# unprivileged "nonroot" user (uid/gid 65532) are all it contains.
# ---------------------------------------------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/pgstack /pgstack

# nonroot, given numerically so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532

# The binary defaults to 127.0.0.1:8080, which is unreachable from outside a
# container.
ENV LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080

# Exec form: the image has no shell. `pgstack healthcheck` requests
# http://<LISTEN_ADDR>/health (0.0.0.0 is mapped to 127.0.0.1) and exits 0 on 200.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/pgstack", "healthcheck"]

ENTRYPOINT ["/pgstack"]
CMD ["serve"]
