# Dockerfile.builder - a reproducible build environment for JefeLinux.
#
#   docker build -f contrib/Dockerfile.builder \
#       --build-arg BASE_DIGEST=sha256:<64 hex digits> -t jefelinux-builder .
#   docker run --rm --privileged -v "$PWD:/src" -w /src jefelinux-builder \
#       ./build.sh --target iso --arch x86_64
#
# The base image is pinned by digest, not by tag: debian:bookworm moves
# with every point release, and a builder must be the same bytes until
# someone decides otherwise.  The digest is not kept in this file (it is
# the site's decision, reviewed when it changes); take it from the image
# you have checked:
#   docker pull debian:bookworm
#   docker inspect --format '{{index .RepoDigests 0}}' debian:bookworm
# and pass the sha256:... part as BASE_DIGEST (contrib/build.ps1 reads
# -BaseDigest or $env:JEFE_BUILDER_BASE_DIGEST, the Jenkinsfile the
# JEFE_BUILDER_BASE_DIGEST variable, and both refuse to build without it).
# Without BASE_DIGEST the FROM line below is not a valid reference and
# docker build stops there.
#
# --privileged: the ISO build mounts nothing, but the tests make network
# namespaces and the bootstrap stage runs mmdebstrap as root.
ARG BASE_DIGEST
FROM debian:bookworm@${BASE_DIGEST}

ENV DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
# build.sh owns the package list; copy only it so this layer is cached
# until the list changes.
COPY build.sh /tmp/build.sh
RUN apt-get update -q \
 && /tmp/build.sh --target deps \
 && rm -rf /var/lib/apt/lists/* /tmp/build.sh

WORKDIR /src
CMD ["./build.sh", "--target", "check"]
