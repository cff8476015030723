#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Pack a guest initramfs for the Debian kernel <ver> from the cache:
#
#   mkinitramfs.sh [-K] [-t DIR] [-R NAME=DIR]... <ver> <out.cpio.gz> <run-script> [file...]
#
#   /init                 scripts/guest/init: mounts, CPU flags, /run.sh, off
#   /run.sh               <run-script>
#   /bin/                 busybox (applets linked at boot) and each <file>
#   /tests/               the executables in DIR (-t), e.g. selftests/build
#   /realguest/NAME/      (-R, repeatable) the executables in DIR and its
#                         list of the names expected there (and notyet, the
#                         ones not run on lapicv yet, and args, the
#                         arguments some take), for the real-guest
#                         suites (KVM's selftests, selftests/guest);
#                         /realguest/order lists the NAMEs in -R order
#   /lib/modules/         build/<ver>/lapicv.ko and, with -K, kvm-amd from
#                         the kernel package with its dependencies, all
#                         uncompressed; lapicv.order and kvm.order list them
#                         in insmod order.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kvm=0
tests=
realguest=()
while getopts Kt:R: opt; do
	case $opt in
	K) kvm=1 ;;
	t) tests=$OPTARG ;;
	R) realguest+=("$OPTARG") ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 3 ]; then
	echo "usage: $0 [-K] [-t DIR] [-R NAME=DIR]... <ver> <out.cpio.gz> <run-script> [file...]" >&2
	exit 2
fi
ver=$1 out=$2 run=$3
shift 3

cache=$(bash "$top/scripts/cache.sh" dir)
kmods=$cache/kernels/$ver/lib/modules/$ver
ko=$top/build/$ver/lapicv.ko
[ -d "$kmods" ] || { echo "no guest kernel $ver: run scripts/guest-kernels.sh" >&2; exit 1; }
[ -f "$ko" ] || { echo "no $ko: run make KVER=$ver modules" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,tests,lib/modules}
cp /bin/busybox "$root/bin/busybox"
install -m 0755 "$top/scripts/guest/init" "$root/init"
install -m 0755 "$run" "$root/run.sh"
for f in "$@"; do
	install -m 0755 "$f" "$root/bin/"
done
if [ -n "$tests" ]; then
	find "$tests" -maxdepth 1 -type f -perm -u+x -exec cp {} "$root/tests/" \;
fi
for r in "${realguest[@]}"; do
	name=${r%%=*} dir=${r#*=}
	[ -f "$dir/list" ] || { echo "no $dir/list" >&2; exit 1; }
	mkdir -p "$root/realguest/$name"
	cp "$dir/list" "$root/realguest/$name/list"
	[ ! -f "$dir/notyet" ] || cp "$dir/notyet" "$root/realguest/$name/notyet"
	[ ! -f "$dir/args" ] || cp "$dir/args" "$root/realguest/$name/args"
	find -L "$dir" -maxdepth 1 -type f -perm -u+x \
		-exec cp {} "$root/realguest/$name/" \;
	echo "$name" >>"$root/realguest/order"
done

# The kernel package's file for module <name> (kvm_amd -> kvm-amd.ko.xz).
module_file() {
	find "$kmods/kernel" \( -name "$1.ko*" -o -name "${1//_/-}.ko*" \) \
		-print -quit
}

# Append <file> to <order>, after its dependencies, uncompressed.
packed=" "
pack_module() {
	local file=$1 order=$2 name dep depfile

	name=$(basename "$file")
	name=${name%%.ko*}
	case $packed in *" $name "*) return 0 ;; esac
	for dep in $(modinfo -F depends "$file" | tr , ' '); do
		depfile=$(module_file "$dep")
		[ -n "$depfile" ] || { echo "no module $dep for $ver" >&2; exit 1; }
		pack_module "$depfile" "$order"
	done
	case $file in
	*.ko.xz) xz -dc "$file" >"$root/lib/modules/$name.ko" ;;
	*.ko.zst) zstd -qdc "$file" >"$root/lib/modules/$name.ko" ;;
	*.ko.gz) gzip -dc "$file" >"$root/lib/modules/$name.ko" ;;
	*) cp "$file" "$root/lib/modules/$name.ko" ;;
	esac
	echo "$name.ko" >>"$order"
	packed="$packed$name "
}

: >"$root/lib/modules/lapicv.order"
pack_module "$ko" "$root/lib/modules/lapicv.order"
if [ $kvm = 1 ]; then
	: >"$root/lib/modules/kvm.order"
	pack_module "$(module_file kvm_amd)" "$root/lib/modules/kvm.order"
fi

(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out"
