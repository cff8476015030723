#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install, as root, every Debian 12 package the test rig needs.  Idempotent:
# when everything is installed already it costs one dpkg-query.
set -euo pipefail

PKGS=(
	qemu-system-x86 busybox-static cpio kmod xz-utils zstd file
	gcc make libc6-dev perl bc flex bison libelf-dev sparse git
	clang libclang-rt-14-dev
	linux-headers-amd64 linux-headers-6.12-amd64 linux-source-6.12
)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing ${missing[*]}; run as root" >&2
	exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The 6.12 headers depend on a 6.12 linux-image package.  Nobody boots it on
# this host, so skip building its initramfs (the slow part of its postinst).
export INITRD=No
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
