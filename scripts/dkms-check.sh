#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make dkms-check: the DKMS cycle for every installed Debian header set
# (6.1 and 6.12 here), as root:
#   1. install the dkms package if it is missing;
#   2. copy the module's sources and dkms.conf to /usr/src/lapicv-<ver>;
#   3. dkms add, then for each kernel dkms build and dkms install, and
#      check that /lib/modules/<kernel>/updates/dkms/lapicv.ko exists and
#      is the module for that kernel (modinfo vermagic), and that
#      POST_INSTALL installed the udev rule for /dev/lapicv (and, at the
#      end, that POST_REMOVE removed it with the last module);
#   4. dkms remove --all and delete /usr/src/lapicv-<ver>, also on
#      failure, so the machine is left as it was.
# Installing into /lib/modules of a kernel that is not running is fine:
# depmod runs for it.  Logs stay in build/dkms-check/.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' dkms.conf)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
src=/usr/src/$name-$ver
# The udev rule that makes /dev/lapicv group kvm, 0660 (dkms-udev.sh).
rules=/lib/udev/rules.d/60-lapicv.rules
out=$top/build/dkms-check
mkdir -p "$out"

if ! command -v dkms >/dev/null; then
	echo "== installing dkms"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends dkms >"$out/apt.log" 2>&1 ||
		{ cat "$out/apt.log"; exit 1; }
fi

mapfile -t kvers < <(bash scripts/kvers.sh)
[ ${#kvers[@]} -gt 0 ] || { echo "no kernel headers installed" >&2; exit 1; }

# depmod creates modules.dep and friends for a kernel that had none (6.1
# here has only headers): remove those again.
no_dep=()
for k in "${kvers[@]}"; do
	[ -e "/lib/modules/$k/modules.dep" ] || no_dep+=("$k")
done

cleanup() {
	dkms remove "$name/$ver" --all >/dev/null 2>&1 || true
	rm -rf "$src"
	for k in "${no_dep[@]}"; do
		rm -f /lib/modules/"$k"/modules.{alias,alias.bin,builtin.alias.bin,builtin.bin,dep,dep.bin,devname,softdep,symbols,symbols.bin}
		rmdir /lib/modules/"$k"/updates/dkms /lib/modules/"$k"/updates 2>/dev/null || true
	done
}
trap cleanup EXIT
cleanup

# The module's sources only: what `make modules` needs, and dkms.conf.
mkdir -p "$src"
mkdir -p "$src/scripts"
cp -a Makefile Kbuild dkms.conf ./*.c ./*.h include udev "$src/"
cp -a scripts/dkms-udev.sh "$src/scripts/"

fail=0
step() {
	if [ "$1" -eq 0 ]; then
		echo "ok - $2"
	else
		echo "not ok - $2"
		fail=1
	fi
}

# run <log> <command...>: keep the output, show it on failure.
run() {
	local log=$1

	shift
	if "$@" >"$log" 2>&1; then
		return 0
	fi
	sed 's/^/    /' "$log"
	return 1
}

st=0; run "$out/add.log" dkms add "$name/$ver" || st=$?
step $st "dkms add $name/$ver"
[ $st -eq 0 ] || exit 1
for k in "${kvers[@]}"; do
	st=0; run "$out/build-$k.log" dkms build "$name/$ver" -k "$k" || st=$?
	step $st "dkms build -k $k"
	[ $st -eq 0 ] || continue
	st=0; run "$out/install-$k.log" dkms install "$name/$ver" -k "$k" --force || st=$?
	step $st "dkms install -k $k"
	ko=/lib/modules/$k/updates/dkms/$name.ko
	# DKMS may compress the module as the kernel's own are.
	found=$(ls "$ko" "$ko".xz "$ko".zst "$ko".gz 2>/dev/null | head -n 1 || true)
	st=1
	if [ -n "$found" ]; then
		magic=$(modinfo -F vermagic "$found" 2>/dev/null | cut -d' ' -f1)
		[ "$magic" = "$k" ] && st=0
	fi
	step $st "${found:-$ko} installed, vermagic ${magic:-?}"
	st=0; grep -q "updates/dkms/$name.ko" "/lib/modules/$k/modules.dep" || st=1
	step $st "depmod lists it for $k"
	st=0; cmp -s udev/60-lapicv.rules "$rules" || st=1
	step $st "POST_INSTALL installed $rules"
done
dkms status "$name/$ver" 2>/dev/null | sed 's/^/# /'
st=0; run "$out/remove.log" dkms remove "$name/$ver" --all || st=$?
step $st "dkms remove $name/$ver --all"
for k in "${kvers[@]}"; do
	st=0; ls /lib/modules/"$k"/updates/dkms/"$name".ko* >/dev/null 2>&1 && st=1
	step $st "nothing left in /lib/modules/$k/updates/dkms"
done
st=0; [ ! -e "$rules" ] || st=1
step $st "POST_REMOVE removed $rules with the last module"
[ $fail -eq 0 ] && echo "dkms-check: passed" || echo "dkms-check: FAILED (logs in ${out#"$top"/}/)"
exit $fail
