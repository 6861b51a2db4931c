# Multi-stage build of the `ldr` binary; the runtime image runs as a non-root user.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY email_templates ./email_templates
COPY benches ./benches
COPY tests ./tests
RUN cargo build --release --locked --bin ldr

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --create-home ldr
WORKDIR /app
COPY --from=build /src/target/release/ldr /usr/local/bin/ldr
COPY --from=build /src/email_templates /app/email_templates
USER ldr
ENV LDR_BIND=0.0.0.0:8080 \
    LDR_DATA_DIR=/app/data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
CMD ["ldr"]
