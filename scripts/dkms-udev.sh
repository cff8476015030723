#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# DKMS's POST_INSTALL and POST_REMOVE (dkms.conf), run from the module's
# source tree:
#   dkms-udev.sh install   install udev/60-lapicv.rules (group kvm, 0660)
#   dkms-udev.sh remove    remove it once no kernel has a DKMS lapicv.ko
# DKMS runs POST_REMOVE after deleting the kernel's module, so the rule
# stays while another kernel still has one.
set -eu
rules=/lib/udev/rules.d/60-lapicv.rules

reload() {
	udevadm control --reload-rules >/dev/null 2>&1 || true
}

case "${1:-}" in
install)
	install -D -m 0644 udev/60-lapicv.rules "$rules"
	reload
	;;
remove)
	if ! ls /lib/modules/*/updates/dkms/lapicv.ko* >/dev/null 2>&1; then
		rm -f "$rules"
		reload
	fi
	;;
*)
	echo "usage: $0 install|remove" >&2
	exit 2
	;;
esac
