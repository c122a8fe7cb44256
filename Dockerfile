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
COPY build.rs ./
RUN cargo build --release --locked --bin hotpapers

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data hotpapers
COPY --from=build /src/target/release/hotpapers /usr/local/bin/hotpapers
USER hotpapers
WORKDIR /data
VOLUME ["/data"]
# The store lives on the volume; mount a config.toml at /data/config.toml or use
# HOTPAPERS_<SECTION>__<KEY> variables (DISCORD_TOKEN for the token).
ENV HOTPAPERS_STORE__PATH=/data/hotpapers.db
ENTRYPOINT ["hotpapers"]
CMD ["digest", "--format", "text"]
