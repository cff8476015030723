#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fill the cache with what the guests and the checks need, idempotently:
#   kernels/<ver>/   the Debian kernel package that matches each installed
#                    linux-headers-<ver> (apt-get download + dpkg-deb -x):
#                    boot/vmlinuz-<ver> and lib/modules/<ver>/
#   kselftest/       kselftest_harness.h, kselftest.h   } from Debian's
#   checkpatch/      checkpatch.pl and its data files    } linux-source-6.12
set -euo pipefail

cache=$(bash "$(dirname "$0")/cache.sh" dir)
SRC_TAR=/usr/src/linux-source-6.12.tar.xz

# Several checkouts may share the cache: one writer at a time.
exec 9>"$cache/.lock"
flock 9
tmp=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fetch_kernel() {
	local ver=$1 dest=$cache/kernels/$1 pkgver pkg

	[ -f "$dest/boot/vmlinuz-$ver" ] && return 0
	pkgver=$(dpkg-query -W -f='${Version}' "linux-headers-$ver")
	pkg=linux-image-$ver-unsigned
	if ! apt-cache show "$pkg=$pkgver" >/dev/null 2>&1 &&
	   ! apt-cache show "linux-image-$ver=$pkgver" >/dev/null 2>&1; then
		apt-get update -q
	fi
	apt-cache show "$pkg=$pkgver" >/dev/null 2>&1 || pkg=linux-image-$ver
	if ! apt-cache show "$pkg=$pkgver" >/dev/null 2>&1; then
		echo "guest-kernels: the archive no longer has $pkg=$pkgver;" \
			"upgrade linux-headers-$ver's meta package" >&2
		exit 1
	fi
	echo "guest-kernels: downloading $pkg=$pkgver"
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root \
		"$pkg=$pkgver")
	dpkg-deb -x "$tmp"/*.deb "$tmp/root"
	rm -f "$tmp"/*.deb
	mkdir -p "$cache/kernels"
	rm -rf "$dest"
	mv "$tmp/root" "$dest"
}

extract_sources() {
	local top=linux-source-6.12

	[ -f "$cache/checkpatch/const_structs.checkpatch" ] &&
		[ -f "$cache/kselftest/kselftest.h" ] && return 0
	echo "guest-kernels: extracting kselftest and checkpatch from $SRC_TAR"
	tar -xJf "$SRC_TAR" -C "$tmp" \
		$top/tools/testing/selftests/kselftest_harness.h \
		$top/tools/testing/selftests/kselftest.h \
		$top/scripts/checkpatch.pl \
		$top/scripts/spelling.txt \
		$top/scripts/const_structs.checkpatch
	rm -rf "$cache/kselftest" "$cache/checkpatch"
	mkdir -p "$cache/kselftest" "$cache/checkpatch"
	mv "$tmp/$top"/tools/testing/selftests/*.h "$cache/kselftest/"
	mv "$tmp/$top"/scripts/* "$cache/checkpatch/"
}

for v in $(bash "$(dirname "$0")/kvers.sh"); do
	fetch_kernel "$v"
done
extract_sources
