# Builds the conduit binary and ships it on a distroless image: glibc, CA certificates (for the
# breached-password check's HTTPS) and no shell, run as a non-root user.
#
# Layers: cargo-chef builds the dependencies from the manifests alone (`recipe.json`), so a change
# to Conduit's own code rebuilds only Conduit's crates.

FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --package conduit-server --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --package conduit-server --bin conduit

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/conduit /usr/local/bin/conduit
ENV APP_ENV=production BIND_ADDR=0.0.0.0:8080
EXPOSE 8080
# `conduit healthcheck` asks this process's /health/ready (no curl in the image).
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/conduit", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/conduit"]
