#!/usr/bin/env bash
# Makes a working CRIU (>= 4.2) available and prints the path of the executable to use.
#
# 4.2 because kernels from 6.16 on refuse SO_PASSCRED/SO_PASSSEC on inet sockets, which CRIU 4.1
# asks for on every socket: no process with a TCP socket can be dumped with it.
# A system criu >= 4.2 is used as is. Otherwise Debian testing's (forky) CRIU 4.2 is unpacked into
# a private folder and run through its own dynamic loader: it needs a newer glibc than bookworm
# has, so it cannot be apt-installed there (see shared/criu-notes.md). Nothing outside that folder
# changes except a temporary apt source that is removed again before this script exits.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-"$repo/.criu"}
wrapper="$dest/criu"

die() { echo "install-criu: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (CRIU needs CAP_SYS_ADMIN and apt-get needs root)"
[ "$(uname -m)" = x86_64 ] || die "only x86_64 is supported, this is $(uname -m)"

version_ok() { # prints the version and succeeds when "$@ --version" reports >= 4.2
  local v major minor
  v=$("$@" --version 2>/dev/null | sed -n 's/^Version: *\([0-9][0-9.]*\).*/\1/p' | head -1)
  [ -n "$v" ] || return 1
  echo "$v"
  major=${v%%.*}
  minor=${v#*.}
  minor=${minor%%.*}
  [ "$major" -gt 4 ] || { [ "$major" -eq 4 ] && [ "${minor:-0}" -ge 2 ]; }
}

if [ -x "$wrapper" ] && version_ok "$wrapper" >/dev/null; then
  echo "$wrapper"; exit 0
fi

if sys=$(command -v criu) && version_ok "$sys" >/dev/null; then
  mkdir -p "$dest"
  printf '#!/bin/sh\nexec %q "$@"\n' "$sys" > "$wrapper"
  chmod +x "$wrapper"
  echo "$wrapper"; exit 0
fi

command -v apt-get >/dev/null || die "no criu >= 4.2 on PATH and no apt-get to fetch one; install CRIU 4.2 or newer and pass its path with --criu"

packages=(criu libcompel1 libc6 libbsd0 libmd0 libgnutls30t64 libnftables1 libprotobuf-c1
  libnl-3-200 libnet9 libuuid1 libp11-kit0 libffi8 libidn2-0 libunistring5 libtasn1-6
  libnettle8t64 libhogweed6t64 libgmp10 libmnl0 libnftnl11 libxtables12 libjansson4)

mirror=$(grep -hE '^[[:space:]]*(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
  /etc/apt/sources.list.d/*.list 2>/dev/null | grep -oE 'https?://[^ ]+/debian/?' | head -1 || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

tmp=$(mktemp -d)
suite=forky
src=/etc/apt/sources.list.d/zz-install-criu-$suite.list
cleanup() {
  rm -f "$src"
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "deb [trusted=yes] $mirror $suite main" > "$src"
apt_opts=(-o Dir::Etc::sourcelist="$src" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0
  -o Dir::State::Lists="$tmp/lists")
mkdir -p "$tmp/lists/partial" "$tmp/debs"
apt-get "${apt_opts[@]}" -qq update >&2 || die "apt-get update for $suite failed"
(cd "$tmp/debs" && apt-get "${apt_opts[@]}" -qq download "${packages[@]}" >&2) \
  || die "downloading CRIU packages from $suite failed (Debian testing renames libraries now and then: compare the list above with 'apt-cache depends criu' there)"

rm -rf "$dest.new"
mkdir -p "$dest.new"
for deb in "$tmp"/debs/*.deb; do dpkg -x "$deb" "$dest.new/root"; done

lib="$dest/root/usr/lib/x86_64-linux-gnu"
cat > "$dest.new/criu" <<WRAP
#!/bin/sh
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib" "$dest/root/usr/sbin/criu" "\$@"
WRAP
chmod +x "$dest.new/criu"
rm -rf "$dest"
mv "$dest.new" "$dest"

version_ok "$wrapper" >/dev/null || die "unpacked CRIU does not run: $("$wrapper" --version 2>&1 | head -3)"
echo "$wrapper"
