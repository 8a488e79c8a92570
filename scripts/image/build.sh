#!/usr/bin/env bash
# Builds Axon's runtime image from Debian packages alone, without any container registry:
# the same image as the Containerfile's runtime stage (Debian bookworm, libmicrohttpd and
# OpenBLAS, user 10001, /var/lib/axon, port 8080, `axond serve` binding 0.0.0.0).
#
#   scripts/image/build.sh AXOND OUT VERSION COMMIT
#
# AXOND is a release axond built with --static-swift-stdlib (`make image` builds it). OUT
# receives:
#   rootfs.tar          the Debian layer (mmdebstrap: only the packages axond needs)
#   app.tar             the axond layer
#   oci/                an OCI image layout, tag VERSION (umoci)
#   axon-VERSION.oci.tar  the same image as one archive, named axon:VERSION: `podman load -i` or
#                       `skopeo copy oci-archive:... docker://REGISTRY/axon:VERSION`
# Needs root (mmdebstrap unpacks packages as root), mmdebstrap and umoci.
set -euo pipefail

axond=${1:?usage: build.sh AXOND OUT VERSION COMMIT}
out=${2:?output directory}
version=${3:?version}
commit=${4:-unknown}
suite=${SUITE:-bookworm}
# Reproducible layers: every timestamp is the commit's time (or the epoch outside git).
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH=$epoch
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

mkdir -p "$out"
rm -rf "$out/oci" "$out/rootfs.tar" "$out/app.tar" "$out/app" "$out"/axon-*.oci.tar

# Only what axond needs: the custom variant installs the packages listed and their
# dependencies, nothing Essential beyond them (no apt, perl, util-linux, login or PAM). dpkg
# stays, with the shell, diff and text tools its maintainer scripts call, so the image's
# package database is true; bash and coreutils serve the HEALTHCHECK and `sleep` in a
# preStop hook. The merged-usr hook gives bookworm's merged /usr without usrmerge (perl).
# Documentation, manual pages, translations and glibc's iconv modules never reach the disk
# (dpkg path-exclude; axond speaks UTF-8 only). OpenBLAS ships its LAPACK beside its BLAS:
# axond calls only BLAS, so the 7 MB LAPACK goes.
packages=base-files,base-passwd,bash,dash,coreutils,diffutils,sed,grep,findutils,dpkg,libc-bin
packages+=,libstdc++6,libmicrohttpd12,libopenblas0-pthread
mmdebstrap --quiet --variant=custom --include="$packages" \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --dpkgopt='path-exclude=/usr/lib/x86_64-linux-gnu/gconv/*' \
  --customize-hook='rm -f "$1"/usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3' \
  --customize-hook='echo "axon:x:10001:" >> "$1/etc/group"' \
  --customize-hook='echo "axon:x:10001:10001:axond:/var/lib/axon:/usr/sbin/nologin" >> "$1/etc/passwd"' \
  --customize-hook='install -d -o 10001 -g 10001 -m 0750 "$1/var/lib/axon"' \
  --customize-hook='rm -rf "$1"/var/cache/debconf/*-old "$1"/var/log/* "$1"/var/lib/apt/lists/* "$1"/var/cache/apt' \
  "$suite" "$out/rootfs.tar"

# The application layer: only the binary, owned by root (the daemon runs as 10001 and must
# not be able to replace itself).
install -Dm755 "$axond" "$out/app/usr/local/bin/axond"
tar --create --file "$out/app.tar" --directory "$out/app" --sort=name --owner=0 --group=0 --numeric-owner \
  --mtime="@$epoch" usr
rm -rf "$out/app"

image="$out/oci:$version"
umoci init --layout "$out/oci"
umoci new --image "$image"
umoci raw add-layer --image "$image" --history.created "$created" \
  --history.created_by "mmdebstrap --variant=custom $suite: $packages" "$out/rootfs.tar"
umoci raw add-layer --image "$image" --history.created "$created" \
  --history.created_by "axond $version ($commit), release, --static-swift-stdlib" "$out/app.tar"
# The same runtime settings as the Containerfile's (see there for why each is what it is).
umoci config --image "$image" --created "$created" --author "Axon" \
  --architecture amd64 --os linux \
  --config.user 10001:10001 \
  --config.workingdir /var/lib/axon \
  --config.volume /var/lib/axon \
  --config.exposedports 8080/tcp \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env AXON_HTTP_HOST=0.0.0.0 --config.env AXON_HTTP_PORT=8080 --config.env AXON_STATE_DIR=/var/lib/axon \
  --config.entrypoint /usr/local/bin/axond --config.entrypoint serve \
  --config.stopsignal SIGTERM \
  --config.label org.opencontainers.image.title=axon \
  --config.label "org.opencontainers.image.description=axond: trains multilayer perceptrons over HTTP and serves their predictions (TF-Serving REST, KServe V2)" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.revision=$commit" \
  --config.label "org.opencontainers.image.created=$created" \
  --config.label "org.opencontainers.image.base.name=debian:$suite (mmdebstrap)" \
  --manifest.annotation "org.opencontainers.image.version=$version" \
  --manifest.annotation "org.opencontainers.image.revision=$commit" \
  --manifest.annotation "org.opencontainers.image.created=$created" \
  --history.created "$created" --history.created_by "umoci config"
umoci gc --layout "$out/oci"
# The archive names the image axon:VERSION (the layout's tag is VERSION alone, as umoci wants
# it): `podman load` then lists it as localhost/axon:VERSION.
rm -rf "$out/archive" && cp -al "$out/oci" "$out/archive"
rm "$out/archive/index.json"
sed "s/\"org.opencontainers.image.ref.name\":\"$version\"/\"org.opencontainers.image.ref.name\":\"axon:$version\"/" \
  "$out/oci/index.json" > "$out/archive/index.json"
grep -q "\"axon:$version\"" "$out/archive/index.json"
tar --create --file "$out/axon-$version.oci.tar" --directory "$out/archive" --sort=name --owner=0 --group=0 --numeric-owner \
  --mtime="@$epoch" .
rm -rf "$out/archive"

# Sizes: what a registry stores and a node pulls (compressed layers), and what unpacks.
compressed=$(find "$out/oci/blobs" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
unpacked=$(( $(stat -c %s "$out/rootfs.tar") + $(stat -c %s "$out/app.tar") ))
echo "image: $out/oci ($version), archive $out/axon-$version.oci.tar"
awk -v c="$compressed" -v u="$unpacked" -v b="$(stat -c %s "$axond")" 'BEGIN {
  printf "size: %.1f MB unpacked (axond %.1f MB), %.1f MB compressed\n", u / 1e6, b / 1e6, c / 1e6 }'
