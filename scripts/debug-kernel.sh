#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the debug guest kernel of `make check-debug`, idempotently, in
# <cache>/debug-kernel/ (see scripts/cache.sh):
#
#   linux-source-6.12/   Debian's /usr/src/linux-source-6.12.tar.xz
#   build/               the object tree (O=): bzImage, Module.symvers;
#                        KDIR for lapicv.ko
#   staging/             modules_install: lib/modules/<kernelrelease>/
#
# The config is `make allnoconfig` + scripts/debug-kernel.config (KASAN,
# lockdep, kmemleak, UBSAN, debug objects, KVM as modules), merged with
# scripts/kconfig/merge_config.sh.  It is rebuilt when the fragment changes.
# Prints the kernel release on the last line of stdout.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=$(bash "$top/scripts/cache.sh" dir)
dir=$cache/debug-kernel
src=$dir/linux-source-6.12
obj=$dir/build
stage=$dir/staging
frag=$top/scripts/debug-kernel.config
SRC_TAR=/usr/src/linux-source-6.12.tar.xz
jobs=$(nproc)

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

if [ ! -f "$src/.extracted" ]; then
	echo "debug-kernel: extracting $SRC_TAR" >&2
	rm -rf "$src"
	tar -xJf "$SRC_TAR" -C "$dir"
	touch "$src/.extracted"
fi

sum=$(sha256sum "$frag" | cut -d' ' -f1)
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.fragment" 2>/dev/null)" != "$sum" ]; then
	echo "debug-kernel: configuring (allnoconfig + ${frag#"$top"/})" >&2
	mkdir -p "$obj"
	rm -f "$obj/.fragment"
	make -s -C "$src" O="$obj" allnoconfig >&2
	(cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m .config "$frag") >&2
	make -s -C "$src" O="$obj" olddefconfig >&2
	# merge_config.sh only warns about options that did not stick.
	missing=0
	while IFS= read -r l; do
		case $l in CONFIG_*=n) l="# ${l%=n} is not set" ;; CONFIG_*) ;; *) continue ;; esac
		grep -qxF "$l" "$obj/.config" || { echo "debug-kernel: not set: $l" >&2; missing=1; }
	done <"$frag"
	[ $missing = 0 ] || exit 1
	echo "$sum" >"$obj/.fragment"
fi

t0=$SECONDS
make -s -C "$src" O="$obj" -j"$jobs" bzImage modules >&2
echo "debug-kernel: make bzImage modules took $((SECONDS - t0)) s on $jobs CPUs" >&2
rel=$(make -s -C "$src" O="$obj" kernelrelease)
rm -rf "$stage"
make -s -C "$src" O="$obj" INSTALL_MOD_PATH="$stage" modules_install >&2
echo "$rel"
