#!/usr/bin/env bash
# setup.sh — installs what Lanescope and LaneOS need on a fresh Debian/Ubuntu machine, and nothing
# that is already there. Called by `npm start` and `npm test` before they do anything else.
#
#   app/scripts/setup.sh [--for start|test] [--arch riscv64|aarch64|i386|x86_64]... [--firmware ovmf]
#
# --arch: a project's target that is not the host's needs that architecture's QEMU and Debian's
# gdb-multiarch (the Debug panel's error names this option); the tests' RISC-V and aarch64 fixtures
# (debugger/test/fixtures/rv64, a64) need both, and the cross compilers that build them.
# --firmware ovmf: UEFI firmware for x86_64 (Debian's ovmf: /usr/share/ovmf/OVMF.fd, what
# lanescope.json's `"bios": "ovmf"` names) and GRUB's UEFI platform files (grub-efi-amd64-bin), so
# grub-mkrescue makes ISOs that boot under both SeaBIOS and OVMF. Tests install it (the UEFI boot
# tests, app/test/unit/boot-forms.test.ts).
#
# Debian packages: the OS toolchain and emulator (make, gcc, binutils, python3, qemu-system-x86,
# grub-pc-bin, grub-common, xorriso, mtools, gdb) for both; chromium only for tests (the end-to-end
# tests drive the renderer in it), protobuf-compiler (protoc checks the Perfetto export) and pciutils
# (Linux's lspci reads LaneOS's uploaded /sys). npm packages: `npm ci` when node_modules is missing or older than
# package-lock.json. Electron's own binary cannot be downloaded on every machine, so its download is
# skipped: `npm start` falls back to the browser mode when the binary is absent.
set -euo pipefail
cd "$(dirname "$0")/../.."

purpose=start
arches=()
firmware=()
while [ $# -gt 0 ]; do
  case "$1" in
    --for) purpose="${2:-start}"; shift 2 ;;
    --arch) arches+=("${2:-}"); shift 2 ;;
    --firmware) firmware+=("${2:-}"); shift 2 ;;
    *) echo "setup: unknown option $1 (--for start|test, --arch NAME, --firmware ovmf)" >&2; exit 2 ;;
  esac
done
[ "$purpose" = test ] && arches+=(riscv64 aarch64) && firmware+=(ovmf)

# command -> Debian package that provides it
declare -A need=(
  [make]=make [gcc]=gcc [ld]=binutils [python3]=python3 [qemu-system-x86_64]=qemu-system-x86
  [grub-mkrescue]=grub-common [xorriso]=xorriso [mformat]=mtools [gdb]=gdb
)
[ "$purpose" = test ] && need[chromium]=chromium
# protoc decodes the Perfetto export against a .proto subset (debugger/test/trace-perfetto.test.ts).
[ "$purpose" = test ] && need[protoc]=protobuf-compiler
# Linux's own lspci reads a copy of LaneOS's /sys (os/tools/os_test_pci.py, "pci lspci" configuration).
[ "$purpose" = test ] && need[lspci]=pciutils
# other architectures (app/common/arch.ts): QEMU, gdb-multiarch; for tests the cross compilers too
for a in "${arches[@]}"; do
  case "$a" in
    riscv64) need[qemu-system-riscv64]=qemu-system-misc; need[gdb-multiarch]=gdb-multiarch
             [ "$purpose" = test ] && need[riscv64-linux-gnu-gcc]=gcc-riscv64-linux-gnu ;;
    aarch64) need[qemu-system-aarch64]=qemu-system-arm; need[gdb-multiarch]=gdb-multiarch
             [ "$purpose" = test ] && need[aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu ;;
    i386|x86_64) ;;
    *) echo "setup: unknown architecture $a (riscv64, aarch64, i386, x86_64)" >&2; exit 2 ;;
  esac
done
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
# grub-mkrescue needs the BIOS platform files, which live in grub-pc-bin.
[ -d /usr/lib/grub/i386-pc ] || missing+=(grub-pc-bin)
# firmware (app/node/qemu.ts's firmware names): files, not commands
for f in "${firmware[@]}"; do
  case "$f" in
    ovmf) [ -f /usr/share/ovmf/OVMF.fd ] || missing+=(ovmf)
          [ -d /usr/lib/grub/x86_64-efi ] || missing+=(grub-efi-amd64-bin) ;;
    *) echo "setup: unknown firmware $f (ovmf)" >&2; exit 2 ;;
  esac
done
# os/abi/gen.py reads TOML: Python 3.11 has tomllib; older Pythons need python3-tomli.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import tomllib' 2>/dev/null \
   && ! python3 -c 'import tomli' 2>/dev/null; then
  missing+=(python3-tomli)
fi

if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "setup: missing packages (${missing[*]}) and not root; install them and run again" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# node_modules as a symbolic link is a shared install (git worktrees point at one): npm ci would
# empty the folder it points to for every tree using it, so it is left to the tree that owns it.
if [ -L node_modules ]; then
  [ -d node_modules/ ] || { echo "setup: node_modules links to a missing folder" >&2; exit 1; }
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm ci)"
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi
