# pgmerge on Debian 12, built with the project's own scripts (Debian's
# packages only), shipped as the .deb `cpack -G DEB` makes:
#   docker build -t pgmerge .
#   docker run --rm pgmerge --version
FROM debian:12 AS build
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates sudo \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN bash scripts/install-deps.sh
COPY . .
RUN BUILD_DIR=/build CMAKE_ARGS="-DPGMERGE_BENCH=OFF" bash scripts/build.sh \
    && cd /build && cpack -G DEB -B /pkg

FROM debian:12-slim
COPY --from=build /pkg/*.deb /tmp/
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends /tmp/pgmerge_*.deb postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/* /tmp/*.deb
ENTRYPOINT ["pgmerge"]
