#!/usr/bin/env bash
# `npm run certs`: a self-signed development certificate for 127.0.0.1 and
# localhost, valid 30 days. The private key stays out of git (.gitignore).
# Usage: make-dev-cert.sh [output-dir]   (default: this folder)
set -euo pipefail
out="${1:-$(cd "$(dirname "$0")" && pwd)}"
mkdir -p "$out"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
  -addext "extendedKeyUsage=serverAuth" \
  -keyout "$out/dev-key.pem" -out "$out/dev-cert.pem" 2>/dev/null
chmod 600 "$out/dev-key.pem"
echo "TLS_CERT=$out/dev-cert.pem TLS_KEY=$out/dev-key.pem"
