#!/usr/bin/env bash
# Runs a command on a kernel that has soft-dirty (issue #11): Debian 12's stock kernel under QEMU
# TCG, with this machine's root filesystem as the guest's root (read-only, over virtio-9p), tmpfs
# where the guest writes (/tmp, /run, /dev/shm, /var/tmp), this checkout at its own path (also
# when that is under /tmp; no spaces in it), and OUT_DIR shared read-write as the guest's
# /run/livemig-out, where the command starts. Prints the command's output; exits with
# its exit code, or 125 when the guest did not come up or did not report.
#   deploy/softdirty-vm.sh OUT_DIR 'COMMAND ...'
# Needs root; installs qemu-system-x86, busybox-static and cpio, and keeps the kernel in .vm/.
# The guest is stopped after LIVEMIG_VM_SECONDS (default 600).
set -euo pipefail
out=$(realpath -m "$1")
cmd=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
cache="$repo/.vm"
mkdir -p "$cache" "$out"
rm -f "$out/exit-code"

if ! command -v qemu-system-x86_64 >/dev/null || ! [ -x /bin/busybox ] || ! command -v cpio >/dev/null; then
  apt-get install -y -q qemu-system-x86 busybox-static cpio >/dev/null
fi
if ! ls "$cache"/kernel/boot/vmlinuz-* >/dev/null 2>&1; then
  pkg=$(apt-cache search '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
  [ -n "$pkg" ] || { echo "no linux-image-6.1.0-*-amd64 in the package archive" >&2; exit 125; }
  (cd "$cache" && apt-get download "$pkg" >/dev/null && dpkg -x "$pkg"_*.deb kernel && rm -f "$pkg"_*.deb)
fi
kver=$(basename "$cache"/kernel/lib/modules/*)
grep -q '^CONFIG_MEM_SOFT_DIRTY=y' "$cache/kernel/boot/config-$kver" \
  || { echo "kernel $kver has no CONFIG_MEM_SOFT_DIRTY" >&2; exit 125; }

# The initramfs: busybox, the modules 9p over virtio and criu check need, and an init that mounts
# the host's root and runs the command in it.
# Named by this script's hash too: a changed init means a new initramfs.
initrd="$cache/initrd-$kver-$(sha256sum "$0" | cut -c1-12).cpio.gz"
if [ ! -f "$initrd" ]; then
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage"/{bin,dev,proc,sys,newroot,modules}
  cp /bin/busybox "$stage/bin/busybox"
  ln -s busybox "$stage/bin/sh"
  mods="virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci 9pnet
    9pnet_virtio netfs fscache 9p nfnetlink inet_diag tcp_diag udp_diag raw_diag unix_diag
    netlink_diag af_packet_diag tun veth nf_tables"
  # Each module after the ones it depends on (the package ships no modules.dep).
  add_module() {
    grep -qx "$1" "$stage/modules/order" 2>/dev/null && return 0
    local f deps d
    f=$(find "$cache/kernel/lib/modules/$kver" -name "$1.ko" | head -1)
    [ -n "$f" ] || { echo "module $1 is not in kernel $kver" >&2; exit 125; }
    deps=$(grep -a -o 'depends=[^[:cntrl:]]*' "$f" | head -1 | cut -d= -f2 | tr ',' ' ')
    for d in $deps; do add_module "$d"; done
    cp "$f" "$stage/modules/"
    echo "$1" >> "$stage/modules/order"
  }
  for m in $mods; do add_module "$m"; done
  cat > "$stage/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
# What udev would add: bash's process substitution needs /dev/fd.
ln -s /proc/self/fd /dev/fd; ln -s fd/0 /dev/stdin; ln -s fd/1 /dev/stdout; ln -s fd/2 /dev/stderr
for m in $(cat /modules/order); do
  [ -f /modules/$m.ko ] && insmod /modules/$m.ko
done
hostname livemig-softdirty
ip link set lo up
o="-o trans=virtio,version=9p2000.L,msize=262144,cache=loose"
mount -t 9p $o,ro hostroot /newroot || { echo "LIVEMIG-VM: no host root"; poweroff -f; }
for d in proc sys dev; do mount --bind /$d /newroot/$d; done
mkdir -p /newroot/dev/shm /newroot/dev/pts
mount -t devpts -o newinstance,ptmxmode=0666 devpts /newroot/dev/pts
[ -e /newroot/dev/ptmx ] || ln -s pts/ptmx /newroot/dev/ptmx
for d in tmp run dev/shm var/tmp; do mount -t tmpfs tmpfs /newroot/$d; done
# The checkout again, at its own path: it may lie under one of those tmpfs mounts (a CI clone).
repo=$(sed -n 's/.*livemig\.repo=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /newroot$repo
mount -t 9p $o,ro repo /newroot$repo || { echo "LIVEMIG-VM: no checkout"; poweroff -f; }
# The guest's name must resolve (CRIU and the agents look it up): the host's hosts file plus it.
{ cat /newroot/etc/hosts; echo "127.0.1.1 livemig-softdirty"; } > /newroot/run/hosts
mount --bind /newroot/run/hosts /newroot/etc/hosts
out=/run/livemig-out
mkdir -p /newroot$out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /newroot$out
chroot /newroot /bin/sh -c "cd $out && . ./command.sh > $out/output 2>&1; echo \$? > $out/exit-code"
poweroff -f
INIT
  chmod +x "$stage/init"
  (cd "$stage" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$initrd")
fi

printf '%s\n' "$cmd" > "$out/command.sh"
# JVMs in the guest crashed now and then (SIGSEGV at the start of freshly JIT-compiled code, twice
# in two runs of javac) under multi-threaded TCG, whichever CPU model: one host thread runs both
# vCPUs instead. No AVX either: QEMU 7.2 is the first release whose TCG emulates it.
timeout "${LIVEMIG_VM_SECONDS:-600}" qemu-system-x86_64 -accel tcg,thread=single -cpu Westmere -smp 2 -m 6G -nographic -no-reboot \
  -kernel "$cache/kernel/boot/vmlinuz-$kver" -initrd "$initrd" \
  -append "console=ttyS0 quiet panic=-1 livemig.repo=$repo" \
  -fsdev local,id=root,path=/,readonly=on,security_model=none,multidevs=remap \
  -device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
  -fsdev local,id=repo,path="$repo",readonly=on,security_model=none,multidevs=remap \
  -device virtio-9p-pci,fsdev=repo,mount_tag=repo \
  -fsdev local,id=out,path="$out",security_model=none \
  -device virtio-9p-pci,fsdev=out,mount_tag=out > "$out/console.log" 2>&1 || true
if [ ! -f "$out/exit-code" ]; then
  echo "the soft-dirty guest did not report; its console:" >&2
  tail -30 "$out/console.log" >&2
  exit 125
fi
cat "$out/output"
exit "$(cat "$out/exit-code")"
