#!/usr/bin/env bash
# Builds the livemig Debian package from the built agents (./mvnw package first):
#   deploy/package/build-deb.sh [OUT_DIR]    (default: target/deb)
# Prints the package's path on its last line. Needs dpkg-deb (Debian's dpkg).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/target/deb}

version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$repo/pom.xml" | head -1)
# 0.1.0-SNAPSHOT -> 0.1.0~snapshot: a snapshot sorts before its release.
deb_version=$(echo "$version" | sed 's/-SNAPSHOT$/~snapshot/')
for jar in dump-agent restore-agent; do
  [ -f "$repo/$jar/target/$jar.jar" ] || { echo "build-deb: $repo/$jar/target/$jar.jar" \
    "is missing: run ./mvnw package first" >&2; exit 1; }
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -a "$here/root/." "$stage/"
install -d "$stage/usr/share/livemig" "$stage/usr/share/doc/livemig" "$stage/DEBIAN"
install -m 0644 "$repo/dump-agent/target/dump-agent.jar" \
  "$repo/restore-agent/target/restore-agent.jar" "$stage/usr/share/livemig/"
install -m 0644 "$repo/README.md" "$stage/usr/share/doc/livemig/README.md"
install -m 0644 "$here/debian/conffiles" "$stage/DEBIAN/"
install -m 0755 "$here/debian/postinst" "$here/debian/prerm" "$here/debian/postrm" \
  "$stage/DEBIAN/"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$deb_version/" -e "s/@SIZE@/$size/" "$here/debian/control" \
  > "$stage/DEBIAN/control"
chmod -R go-w "$stage"

mkdir -p "$out"
deb="$out/livemig_${deb_version}_all.deb"
dpkg-deb --root-owner-group -Zgzip --build "$stage" "$deb" >&2
echo "$deb"
