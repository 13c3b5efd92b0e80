#!/bin/sh
# deps.sh — installs the Debian/Ubuntu packages that `make -C os` and `make -C os test` need,
# if any are missing. Runs apt-get update once, and only as root; otherwise it prints the
# command to run. Used by the repository's npm scripts. Exit 0 when everything is present.
set -u

need=""
check() {   # check COMMAND-OR-PATH PACKAGE
    case "$1" in
        /*) [ -e "$1" ] && return 0 ;;
        *) command -v "$1" >/dev/null 2>&1 && return 0 ;;
    esac
    case " $need " in *" $2 "*) ;; *) need="$need $2" ;; esac
}

check make make
check gcc gcc
check ld binutils
check objcopy binutils
check python3 python3
check tar tar
check qemu-system-x86_64 qemu-system-x86
check grub-mkrescue grub-common
check /usr/lib/grub/i386-pc/multiboot2.mod grub-pc-bin
check xorriso xorriso
check mformat mtools

need=${need# }
if [ -z "$need" ]; then
    echo "deps.sh: all LaneOS build and test dependencies are installed"
    exit 0
fi
echo "deps.sh: missing Debian packages: $need"
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: not root; install them with: sudo apt-get update && sudo apt-get install -y $need" >&2
    exit 1
fi
echo "deps.sh: running apt-get update"
DEBIAN_FRONTEND=noninteractive apt-get update -q || { echo "deps.sh: apt-get update failed" >&2; exit 1; }
echo "deps.sh: running apt-get install -y --no-install-recommends $need"
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need || {
    echo "deps.sh: apt-get install failed" >&2
    exit 1
}
echo "deps.sh: installed $need"
