# Static strictacme image: one binary (CGO_ENABLED=0, pure-Go SQLite) on
# distroless/static, which carries the CA certificates, /etc/passwd with a
# nonroot user and tzdata, and nothing else (no shell: hooks that need one
# belong in a derived image).
#
#   docker build -t strictacme .
#   docker run --rm -v strictacme:/var/lib/strictacme \
#     -e NAMECHEAP_API_USER -e NAMECHEAP_API_KEY strictacme renew
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/strictacme ./cmd/strictacme

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/strictacme /usr/local/bin/strictacme
ENV STRICTACME_PATH=/var/lib/strictacme
VOLUME ["/var/lib/strictacme"]
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/strictacme"]
CMD ["renew"]
