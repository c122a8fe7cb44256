# Two stages: build with the Rust toolchain, run on a slim Debian with only the binary.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY data ./data
# The chart font, compiled into the binary (src/chart/).
COPY assets ./assets
COPY benches ./benches
COPY examples ./examples
COPY build.rs ./
RUN cargo build --release --locked --bin hotpapers

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data hotpapers \
    && mkdir -p /data && chown hotpapers /data
COPY --from=build /src/target/release/hotpapers /usr/local/bin/hotpapers
USER hotpapers
WORKDIR /data
# The store lives on the volume; mount a config.toml at /data/config.toml or use
# HOTPAPERS_<SECTION>__<KEY> variables (DISCORD_TOKEN for the token).
VOLUME ["/data"]
ENV HOTPAPERS_STORE__PATH=/data/hotpapers.db \
    HOTPAPERS_WEB__LISTEN=0.0.0.0:8088
# /healthz and /metrics.
EXPOSE 8088
# `hotpapers health` asks the running bot's /healthz: no curl in the image.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["hotpapers", "health", "--addr", "127.0.0.1:8088"]
ENTRYPOINT ["hotpapers"]
CMD ["run"]
