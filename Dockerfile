# Static strictacme image: one binary (CGO_ENABLED=0, pure-Go SQLite) on
# distroless/static, which carries the CA certificates, /etc/passwd with a
# nonroot user and tzdata, and nothing else (no shell: hooks that need one
# belong in a derived image). The release image (Dockerfile.goreleaser) is
# the same, with the binary built by goreleaser.
#
#   docker build -t strictacme .
#   docker run --rm -v strictacme:/var/lib/strictacme \
#     -e NAMECHEAP_API_USER -e NAMECHEAP_API_KEY strictacme renew
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Empty: the version comes from the module build info; a release passes its
# tag (--build-arg VERSION=v1.2.3).
ARG VERSION=
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/strictacme ./cmd/strictacme
# The state directory exists in the image, owned by nonroot: a new named
# volume mounted there is initialised from it and is writable by the
# nonroot user (distroless has no shell to make it in the final stage).
RUN mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/strictacme /usr/local/bin/strictacme
COPY --from=build --chown=nonroot:nonroot /out/state /var/lib/strictacme
ENV STRICTACME_PATH=/var/lib/strictacme
VOLUME ["/var/lib/strictacme"]
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/strictacme"]
CMD ["renew"]
