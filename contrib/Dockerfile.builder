# Dockerfile.builder - a reproducible build environment for JefeLinux.
#
#   docker build -f contrib/Dockerfile.builder -t jefelinux-builder .
#   docker run --rm --privileged -v "$PWD:/src" -w /src jefelinux-builder \
#       ./build.sh --target iso --arch x86_64
#
# --privileged: the ISO build mounts nothing, but the tests make network
# namespaces and the bootstrap stage runs mmdebstrap as root.
FROM debian:bookworm

ENV DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
# build.sh owns the package list; copy only it so this layer is cached
# until the list changes.
COPY build.sh /tmp/build.sh
RUN apt-get update -q \
 && /tmp/build.sh --target deps \
 && rm -rf /var/lib/apt/lists/* /tmp/build.sh

WORKDIR /src
CMD ["./build.sh", "--target", "check"]
