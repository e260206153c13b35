# Builds the conduit binary and ships it on a small Debian image.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --package conduit-server --bin conduit

FROM debian:bookworm-slim
# CA certificates for the outbound HTTPS of the breached-password check.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 conduit
COPY --from=build /src/target/release/conduit /usr/local/bin/conduit
USER conduit
ENV APP_ENV=production BIND_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/conduit"]
