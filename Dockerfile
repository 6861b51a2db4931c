# Multi-stage build of the `ldr` binary. The runtime image holds the binary and an empty data
# folder owned by the non-root user it runs as; nothing else of the source tree. The e-mail
# templates, the migrations, the web pages' templates and assets and the referral pack's fonts
# are compiled into the binary (include_str!, embed_migrations!, rust-embed, include_bytes!),
# so the build needs no Node; SQLite and libpq are built in (bundled), and SMTP TLS uses the
# webpki roots compiled into the binary, so no system packages are installed.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY .cargo ./.cargo
COPY src ./src
COPY migrations ./migrations
COPY email_templates ./email_templates
COPY page_templates ./page_templates
COPY assets ./assets
COPY benches ./benches
COPY tests ./tests
RUN cargo build --release --locked --bin ldr

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /app --create-home ldr \
    && install -d -o ldr -g ldr -m 0700 /app/data
WORKDIR /app
COPY --from=build /src/target/release/ldr /usr/local/bin/ldr
USER ldr
ENV LDR_BIND=0.0.0.0:8080 \
    LDR_DATA_DIR=/app/data
VOLUME ["/app/data"]
EXPOSE 8080
# `ldr healthcheck` asks GET /readyz on LDR_BIND's port (0.0.0.0 read as 127.0.0.1) and exits 0
# on a 200 within 2 s, 1 otherwise with the reason; exec form, so no shell is involved.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 CMD ["ldr", "healthcheck"]
CMD ["ldr"]
