#!/usr/bin/env bash
# Builds the rustls examples and runs them against real clients, loopback
# only, every step bounded in time; exits non-zero on any failure.
#
#  https_server: Debian's curl (an OpenSSL client) over TLS 1.3 (both AES-GCM
#    suites) and TLS 1.2 (the four ECDHE AES-GCM suites), HTTP/1.1 and HTTP/2;
#    the page and a 24 MiB download are compared byte for byte, and the
#    response header says sealwire carried the negotiated suite.
#  broadcast: rustls handshakes, one message fanned out with seal_records to
#    every connection; its plain rustls clients check the message.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v curl >/dev/null || { echo "test-examples: curl is missing (scripts/setup.sh)"; exit 1; }
command -v openssl >/dev/null || { echo "test-examples: openssl is missing (scripts/setup.sh)"; exit 1; }

cargo build --release --features rustls --example https_server --example broadcast
bin=target/release/examples

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A CA and two leaves (ECDSA P-256, RSA 2048) for localhost / 127.0.0.1.
(
  cd "$work"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj "/CN=sealwire examples CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > leaf.ext
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key 2>/dev/null
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
  for k in ec rsa; do
    openssl req -new -key $k.key -subj "/CN=localhost" -out $k.csr 2>/dev/null
    openssl x509 -req -in $k.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile leaf.ext -out $k.pem 2>/dev/null
  done
  head -c $((24 << 20)) /dev/urandom > big.bin
)

failures=0
fail() { echo "test-examples: FAIL: $*"; failures=$((failures + 1)); }

start_server() { # $1 = ec | rsa
  rm -f "$work/port"
  "$bin/https_server" --cert "$work/$1.pem" --key "$work/$1.key" --file "$work/big.bin" \
    --port-file "$work/port" 2>"$work/server-$1.log" &
  server_pid=$!
  for _ in $(seq 1 200); do [ -s "$work/port" ] && break; sleep 0.05; done
  [ -s "$work/port" ] || { cat "$work/server-$1.log"; echo "test-examples: server did not start"; exit 1; }
  port=$(cat "$work/port")
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# $1 = label, $2 = expected suite name in the header, $3.. = curl TLS options
check_curl() {
  local label=$1 suite=$2; shift 2
  for http in --http1.1 --http2; do
    local want=${http#--http}
    rm -f "$work/got.bin" "$work/page.html" "$work/headers"
    if ! curl -sS --max-time 60 --cacert "$work/ca.pem" "$@" $http \
        -D "$work/headers" -o "$work/got.bin" -w '%{http_version}' \
        "https://localhost:$port/download" > "$work/version"; then
      fail "$label $http: curl failed"; continue
    fi
    [ "$(cat "$work/version")" = "$want" ] || fail "$label $http: HTTP version $(cat "$work/version")"
    cmp -s "$work/got.bin" "$work/big.bin" || fail "$label $http: downloaded bytes differ"
    grep -qi "^x-sealwire-suite: $suite; sealwire=true" "$work/headers" \
      || fail "$label $http: header $(grep -i x-sealwire "$work/headers" || echo missing)"
    curl -sS --max-time 30 --cacert "$work/ca.pem" "$@" $http -o "$work/page.html" \
      "https://localhost:$port/" || fail "$label $http: page"
    grep -q "sealed by sealwire" "$work/page.html" || fail "$label $http: page content"
    echo "test-examples: ok: $label $http ($(stat -c %s "$work/got.bin") bytes)"
  done
}

start_server ec
check_curl "TLS 1.3 AES-128-GCM" TLS13_AES_128_GCM_SHA256 --tlsv1.3 --tls13-ciphers TLS_AES_128_GCM_SHA256
check_curl "TLS 1.3 AES-256-GCM" TLS13_AES_256_GCM_SHA384 --tlsv1.3 --tls13-ciphers TLS_AES_256_GCM_SHA384
check_curl "TLS 1.2 ECDHE-ECDSA AES-128-GCM" TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 \
  --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256
check_curl "TLS 1.2 ECDHE-ECDSA AES-256-GCM" TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 \
  --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES256-GCM-SHA384
stop_server

start_server rsa
check_curl "TLS 1.2 ECDHE-RSA AES-128-GCM" TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 \
  --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256
check_curl "TLS 1.2 ECDHE-RSA AES-256-GCM" TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 \
  --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES256-GCM-SHA384
stop_server

for v in "" --tls12; do
  if timeout 120 "$bin/broadcast" --connections 300 --message-bytes 1024 $v \
      --cert "$work/ec.pem" --key "$work/ec.key" --ca "$work/ca.pem"; then
    echo "test-examples: ok: broadcast ${v:-TLS 1.3}"
  else
    fail "broadcast ${v:-TLS 1.3}"
  fi
done

if [ "$failures" -ne 0 ]; then
  echo "test-examples: $failures failures"
  exit 1
fi
echo "test-examples: all passed"
