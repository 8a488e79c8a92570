#!/usr/bin/env bash
# Builds the Containerfile's runtime stage where no registry can be reached, and runs the
# result through scripts/image/check.py (`make containerfile-check`).
#
#   scripts/image/containerfile-check.sh AXOND WORKDIR VERSION COMMIT
#
# Two stand-ins, because base images cannot be pulled here:
# - debian:bookworm-slim is replaced by a bookworm minbase root filesystem from mmdebstrap,
#   imported into podman (RUNTIME_IMAGE build argument);
# - the build stage (swift:6.3-bookworm, which fetches the Swift packages from the network) is
#   replaced by one that copies AXOND, the same release binary, built on the host.
# Everything from the runtime stage's FROM to the end of the Containerfile is used verbatim.
set -euo pipefail
axond=${1:?usage: containerfile-check.sh AXOND WORKDIR VERSION COMMIT}
work=${2:?workdir}
version=${3:?version}
commit=${4:-unknown}
podman=(podman --runtime runc --cgroup-manager cgroupfs)
limits=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)

mkdir -p "$work/context"
base=localhost/axon-standin-debian:bookworm-slim
if ! podman image exists "$base"; then
  mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr bookworm "$work/slim.tar"
  podman import -q "$work/slim.tar" "$base" >/dev/null
  rm -f "$work/slim.tar"
fi
install -m755 "$axond" "$work/context/axond"
awk '/^# ---- build:/ {skip = 1; print "FROM scratch AS build\nCOPY axond /out/usr/local/bin/axond\n"; next}
     /^# ---- runtime:/ {skip = 0}
     !skip' Containerfile > "$work/context/Containerfile"
grep -q '^FROM ${RUNTIME_IMAGE}' "$work/context/Containerfile"
# --format docker keeps HEALTHCHECK, which the check then runs.
"${podman[@]}" build -q --format docker --network host "${limits[@]}" --build-arg RUNTIME_IMAGE="$base" \
  --build-arg VERSION="$version" --build-arg COMMIT="$commit" -t "localhost/axon-containerfile:$version" "$work/context" >/dev/null
podman history "localhost/axon-containerfile:$version" --format '{{.Size}}	{{.CreatedBy}}' | grep -v '^0 B' | cut -c1-90

# The HEALTHCHECK passes on a running container.
state=$(mktemp -d) && chown 10001:10001 "$state"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
name=axon-containerfile-check-$$
trap '"${podman[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
"${podman[@]}" run -d --rm --pull=never --name "$name" --network host "${limits[@]}" -v "$state:/var/lib/axon" \
  -e AXON_HTTP_PORT="$port" "localhost/axon-containerfile:$version" >/dev/null 2>&1
healthy=0
for _ in $(seq 50); do
  if "${podman[@]}" healthcheck run "$name" >/dev/null 2>&1; then healthy=1; break; fi
  sleep 0.2
done
"${podman[@]}" stop -t 40 "$name" >/dev/null 2>&1 || true
[ "$healthy" = 1 ] || { echo "containerfile-check: HEALTHCHECK never passed"; exit 1; }
echo "containerfile-check: HEALTHCHECK passes"
PYTHONDONTWRITEBYTECODE=1 timeout -k 10 600 python3 scripts/image/check.py --layout - --archive - --tag "$version" \
  --image "localhost/axon-containerfile:$version" --runner podman --iris examples/iris.csv
