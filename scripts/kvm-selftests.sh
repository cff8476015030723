#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# KVM's own selftests, unmodified, as an acceptance suite: build the ones
# the rig runs, and KVM's selftest library, from Debian's linux-source-6.12
# into the cache, once per source version (and version of this script):
#
#   bash scripts/kvm-selftests.sh [build]   build if needed, print the directory
#   bash scripts/kvm-selftests.sh list      the test names, in run order
#   bash scripts/kvm-selftests.sh args      "<name> <arguments>" for the tests
#                                           run with arguments
#
# <cache>/kvm-selftests/<source version>-<script hash>/ holds
#   bin/<name>, bin/list   the static test binaries (stripped) and their names
#   bin/args               what "args" prints (the rig passes them)
#   lib/libkvm.a           KVM's selftest library (tools/testing/selftests/kvm/lib)
#   src/                   the headers it is used with, at their places in the
#                          source tree: usr/include (make headers), tools/include,
#                          tools/arch/x86/include, tools/testing/selftests/kselftest.h
#                          and tools/testing/selftests/kvm/include
# selftests/guest/Makefile builds lapicv's real-guest selftests against it.
#
# Only the parts of the tarball that `make headers` and the selftests need
# are extracted; KVM's own Makefile builds the tests (LDFLAGS made static).
set -euo pipefail

SRC_TAR=/usr/src/linux-source-6.12.tar.xz
SRC_PKG=linux-source-6.12
top_dir=linux-source-6.12
ksft_dir=tools/testing/selftests/kvm

# Paths under tools/testing/selftests/kvm/ of the tests, in run order:
# every one that passes on both kvm_amd and lapicv in the rig's guest
# (Documentation/kvm-selftests.rst has the survey of all of them).
TESTS=(
	x86_64/xapic_state_test
	x86_64/xapic_ipi_test
	x86_64/apic_bus_clock_test
	x86_64/set_boot_cpu_id
	x86_64/recalc_apic_map_test
	x86_64/max_vcpuid_cap_test
	x86_64/set_sregs_test
	x86_64/cr4_cpuid_sync_test
	x86_64/xcr0_cpuid_test
	x86_64/userspace_io_test
	kvm_create_max_vcpus
	kvm_binary_stats_test
	guest_print_test
	demand_paging_test
	kvm_page_table_test
	memslot_modification_stress_test
)

# Arguments, by test name.  The memory tests default to 1 GB of guest
# memory per vCPU, which the rig's 1 GB guest cannot map (mmap ENOMEM on
# kvm_amd too): 64 MB each, otherwise their own defaults.
declare -A ARGS=(
	[demand_paging_test]="-b 64M"
	[kvm_page_table_test]="-b 64M"
	[memslot_modification_stress_test]="-b 64M"
)

# print_args: "<name> <arguments>", one line per test that has them.
print_args() {
	local t

	for t in "${TESTS[@]}"; do
		[ -z "${ARGS[${t##*/}]:-}" ] || echo "${t##*/} ${ARGS[${t##*/}]}"
	done
}

# What `make headers` and the selftest build read.
MEMBERS=(
	Makefile scripts include/uapi arch/x86/Makefile arch/x86/Kbuild
	arch/x86/include/uapi arch/x86/entry/syscalls arch/x86/tools
	tools/include tools/arch/x86/include tools/lib tools/build tools/scripts
	tools/testing/selftests/lib.mk tools/testing/selftests/kselftest.h
	$ksft_dir
)

case "${1:-build}" in
list)
	for t in "${TESTS[@]}"; do
		echo "${t##*/}"
	done
	exit 0
	;;
args)
	print_args
	exit 0
	;;
build) ;;
*)
	echo "usage: $0 [build|list|args]" >&2
	exit 2
	;;
esac

log() {
	echo "kvm-selftests: $*" >&2
}

[ -f "$SRC_TAR" ] || { log "no $SRC_TAR: run scripts/deps.sh"; exit 1; }
cache=$(bash "$(dirname "$0")/cache.sh" dir)
ver=$(dpkg-query -W -f='${Version}' "$SRC_PKG")
rev=$(sha256sum "$0" | cut -c1-12)
base=$cache/kvm-selftests
dest=$base/$ver-$rev

complete() {
	local t

	[ -f "$1/bin/list" ] && [ -f "$1/bin/args" ] &&
		[ -f "$1/lib/libkvm.a" ] || return 1
	for t in "${TESTS[@]}"; do
		[ -x "$1/bin/${t##*/}" ] || return 1
	done
}

mkdir -p "$base"
# Several checkouts may share the cache: one builder at a time.
exec 9>"$base/.lock"
flock 9
if complete "$dest"; then
	echo "$dest"
	exit 0
fi

tmp=$(mktemp -d "$base/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
t0=$SECONDS
log "building ${TESTS[*]##*/} and libkvm.a from $SRC_PKG $ver"
tar -xJf "$SRC_TAR" -C "$tmp" "${MEMBERS[@]/#/$top_dir/}"
src=$tmp/$top_dir
jobs=$(nproc)
make -s -C "$src" -j"$jobs" headers >"$tmp/headers.log" 2>&1 ||
	{ cat "$tmp/headers.log" >&2; log "make headers failed"; exit 1; }

# KVM's Makefile adds "-pthread -no-pie" to LDFLAGS; a command-line LDFLAGS
# replaces that, hence both again.  Its lib objects are what libkvm.a is.
obj=$tmp/out
make -s -C "$src/$ksft_dir" -j"$jobs" OUTPUT="$obj" \
	LDFLAGS="-static -pthread -no-pie" "${TESTS[@]/#/$obj/}" \
	>"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log" >&2; log "the selftest build failed"; exit 1; }

new=$tmp/new
mkdir -p "$new/bin" "$new/lib" "$new/src/tools/testing/selftests/kvm"
for t in "${TESTS[@]}"; do
	strip -o "$new/bin/${t##*/}" "$obj/$t"
	echo "${t##*/}"
done >"$new/bin/list"
print_args >"$new/bin/args"
find "$obj/lib" -name '*.o' -print0 | sort -z |
	xargs -0 ar rcsD "$new/lib/libkvm.a"
find "$src/usr/include" -name '.*' -type f -delete
for d in usr/include tools/include tools/arch/x86/include \
	 tools/testing/selftests/kselftest.h $ksft_dir/include; do
	mkdir -p "$new/src/$(dirname "$d")"
	cp -a "$src/$d" "$new/src/$d"
done
complete "$new" || { log "incomplete result"; exit 1; }
rm -rf "$dest"
mv "$new" "$dest"
log "built in $((SECONDS - t0)) s: $dest"
echo "$dest"
