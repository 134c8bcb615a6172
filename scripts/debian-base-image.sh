#!/usr/bin/env bash
# Makes the base image of deploy/Containerfile's runtime stage, debian:bookworm-slim, in podman's
# local storage from Debian's own mirror, for a machine that reaches deb.debian.org but no container
# registry (as the test machines): debootstrap's minimal Debian 12, slimmed as Debian's official
# -slim images are (no manual pages, documentation or translations), imported under the name the
# Containerfile's FROM uses, so `podman build --pull=never` builds the shipped file unchanged.
# Does nothing when podman already has an image of that name (the cache on one machine: podman's
# own storage); prints how long the making took otherwise.
#
#   scripts/debian-base-image.sh [IMAGE]      (default docker.io/library/debian:bookworm-slim)
#
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian); CONTAINERS_CONF as podman reads it.
# Needs root, podman and debootstrap (scripts/install-deps.sh installs them).
set -euo pipefail
image=${1:-docker.io/library/debian:bookworm-slim}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
if podman image exists "$image"; then
    exit 0
fi
started=$(date +%s)
root=$(mktemp -d /tmp/debian-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || {
    tail -n 20 "$root.log" >&2
    rm -f "$root.log"
    exit 1
}
rm -f "$root.log"
# What debuerreotype (which makes Debian's official images) does for -slim: dpkg leaves these paths
# out from now on, and the ones debootstrap installed go.
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
SLIM
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/{info,linda,lintian/overrides,locale,man,groff}/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old
# And what it does for apt in every image: no package caches or downloaded .debs kept after an
# install, no translations.
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CLEAN'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CLEAN
echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
# Debian's images point apt at deb.debian.org and its security archive.
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
tar -C "$root" --numeric-owner -c . |
    podman import --quiet --change 'CMD ["bash"]' --message "debootstrap bookworm minbase, slimmed" - "$image" >/dev/null
echo "debian-base-image: made $image in $(($(date +%s) - started)) s" >&2
