#!/usr/bin/env bash
# Issues a throw-away CA and per-peer certificates for livemig's mutual TLS, with openssl.
#
#   deploy/make-certs.sh DIR TRUST_DOMAIN ROLE/NAME...
#   deploy/make-certs.sh /etc/livemig/pki example.org dump-agent/hostA restore-agent/hostB client/ops
#
# Creates DIR/ca.pem and DIR/ca.key unless they exist, then for each ROLE/NAME a key pair
# DIR/ROLE-NAME.key and a certificate DIR/ROLE-NAME.pem whose only identity is the URI SAN
# spiffe://TRUST_DOMAIN/livemig/ROLE/NAME. Roles: dump-agent, restore-agent, client.
# Keys are EC P-256 (cheap handshakes) and readable by root only. For demos and tests; in
# production issue the same kind of certificates from your own CA (see README, "Security").
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
dir=$1 domain=$2
shift 2
days=${LIVEMIG_CERT_DAYS:-30}
[[ $domain =~ ^[a-z0-9.-]+$ ]] || { echo "make-certs: bad trust domain '$domain'" >&2; exit 2; }
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.pem" ]; then
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$dir/ca.key" -out "$dir/ca.pem.new" -days "$days" \
    -subj "/O=livemig/CN=livemig CA $domain" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
  mv "$dir/ca.pem.new" "$dir/ca.pem"
fi
for peer in "$@"; do
  [[ $peer =~ ^(dump-agent|restore-agent|client)/[A-Za-z0-9._-]+$ ]] \
    || { echo "make-certs: '$peer' is not ROLE/NAME (role dump-agent, restore-agent or client)" >&2; exit 2; }
  role=${peer%%/*} name=${peer#*/}
  id="spiffe://$domain/livemig/$role/$name"
  base="$dir/$role-$name"
  # Written aside and renamed into place, so that a reader never sees half a key or certificate.
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$base.key.new" \
    -out "$base.csr" -subj "/O=livemig/CN=$role $name" 2>/dev/null
  openssl x509 -req -in "$base.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days "$days" -out "$base.pem.new" -extfile <(printf '%s\n' \
      "subjectAltName=critical,URI:$id" "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth,clientAuth") 2>/dev/null
  rm -f "$base.csr"
  mv "$base.key.new" "$base.key"
  mv "$base.pem.new" "$base.pem"
  echo "$id -> $base.pem, $base.key"
done
