#!/usr/bin/env bash
# Makes a self-signed TLS certificate for the test SMTP servers, valid for localhost and 127.0.0.1.
#
#   scripts/make_test_cert.sh FOLDER
#
# Writes FOLDER/cert.pem (the certificate; also the trust anchor a client should use) and FOLDER/key.pem
# (its unencrypted RSA key). Non-interactive. Valid for 365 days (macOS refuses TLS server certificates
# valid for longer than 825 days), with subjectAltName DNS:localhost, IP:127.0.0.1 and the serverAuth
# extended key usage, so hostname verification against either name passes.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 FOLDER" >&2
    exit 2
fi
folder=$1
mkdir -p "$folder"

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 365 \
    -keyout "$folder/key.pem.tmp" -out "$folder/cert.pem.tmp" \
    -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -addext "extendedKeyUsage=serverAuth" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
    >/dev/null 2>&1 || {
    echo "$0: openssl could not make the certificate" >&2
    exit 1
}
chmod 600 "$folder/key.pem.tmp"
mv "$folder/key.pem.tmp" "$folder/key.pem"
mv "$folder/cert.pem.tmp" "$folder/cert.pem"
echo "$folder/cert.pem"
echo "$folder/key.pem"
