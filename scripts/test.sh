#!/usr/bin/env bash
# Herald's whole test suite in one command: installs whatever the tests need and is missing, starts a throwaway
# PostgreSQL cluster on loopback, runs `swift test` against it, and stops the cluster.
#
#   scripts/test.sh                 # install what is missing, then the whole suite
#   scripts/test.sh --install-only  # only install (what a developer runs once)
#   scripts/test.sh --filter Email  # extra arguments go to `swift test`
#
# Installing needs root or sudo (Debian's apt-get) and pip; what is already there is left alone. CI's
# `.ci/run` calls this same script.
set -euo pipefail
cd "$(dirname "$0")/.."

install_only=0
if [ "${1:-}" = "--install-only" ]; then
    install_only=1
    shift
fi

export DEBIAN_FRONTEND=noninteractive
sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else echo "installing needs root or sudo" >&2; fi
fi
apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        "${sudo_cmd[@]}" apt-get update -qq || { echo "apt-get update failed"; exit 1; }
        apt_updated=1
    fi
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@" || { echo "could not install $*"; exit 1; }
}
# Keeps the package scripts of postfix and postgresql from starting their services while they install.
with_services_held() {
    local created=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
        created=1
    fi
    "$@"
    if [ "$created" = 1 ]; then "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d; fi
}
pip_install() {
    # Debian's own Python refuses pip installs outside a virtualenv (PEP 668); then install beside its packages.
    python3 -m pip install -q "$@" || python3 -m pip install -q --break-system-packages "$@"
}
# python_module MODULE PIP-SPEC [DEBIAN-PACKAGE]
python_module() {
    if python3 -c "import $1" >/dev/null 2>&1; then return; fi
    echo "== installing $2"
    if ! python3 -m pip --version >/dev/null 2>&1; then apt_install python3-pip; fi
    pip_install "$2" || { [ -n "${3:-}" ] && apt_install "$3"; }
    python3 -c "import $1" || { echo "$1 is not importable by python3"; exit 1; }
}

# The SQLite headers GRDB links against.
if ! dpkg -s libsqlite3-dev >/dev/null 2>&1; then
    echo "== installing libsqlite3-dev"
    apt_install libsqlite3-dev
fi

# The email tests run real SMTP servers (Tests/HeraldTests/Support/SMTPTestServer.swift): Postfix's smtp-sink,
# scripts/smtp_test_server.py (aiosmtpd), and openssl for test certificates.
if [ ! -x /usr/sbin/smtp-sink ]; then
    echo "== installing postfix (for smtp-sink only; the mail service is neither configured nor started)"
    echo "postfix postfix/main_mailer_type select No configuration" | "${sudo_cmd[@]}" debconf-set-selections
    with_services_held apt_install postfix
fi
if ! command -v openssl >/dev/null 2>&1; then
    echo "== installing openssl"
    apt_install openssl
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "== installing python3"
    apt_install python3 python3-pip
fi
python_module aiosmtpd aiosmtpd python3-aiosmtpd
# Webhook deliveries are verified with the official Standard Webhooks library (scripts/webhook_receiver.py).
python_module standardwebhooks standardwebhooks
# DKIM signatures are verified with dkimpy (scripts/dkim_verify.py), Ed25519 ones through PyNaCl.
python_module dkim dkimpy
python_module nacl pynacl
# The email provider API tests send through scripts/email_api_test_server.py, which checks Amazon SES's Signature
# Version 4 with botocore's own signer.
python_module botocore botocore python3-botocore
# /metrics is parsed with the Prometheus project's own text-format parser.
python_module prometheus_client prometheus_client python3-prometheus-client
# The push tests run fake APNs (HTTP/2 over TLS, scripts/apns_test_server.py) and FCM (scripts/fcm_test_server.py)
# servers that verify the ES256 and RS256 tokens they are sent. scripts/email_webhook_events.py signs the email
# providers' webhooks with cryptography too (SNS's RSA certificate and signatures, SendGrid's ECDSA key).
python_module h2 h2
python_module cryptography cryptography
# Web Push (scripts/webpush_receiver.py) decrypts with http_ece (RFC 8188/8291) and verifies VAPID with py_vapid.
python_module http_ece http-ece
python_module py_vapid py-vapid

# The browser tests (live inbox, web components, admin console) drive Debian's chromium, headless, through
# chromedriver and Selenium.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "== installing chromium and chromedriver"
    apt_install chromium chromium-driver
fi
python_module selenium selenium python3-selenium

# The API fuzz test (Tests/HeraldTests/Process/APIFuzzTests.swift) drives schemathesis from the OpenAPI document.
python_module schemathesis "schemathesis==4.32.5"

# The OpenAPI description (Sources/HeraldServer/Resources/openapi.json) is validated against the OpenAPI 3.1 schema
# (Tests/HeraldTests/API/OpenAPIValidationTests.swift).
python_module openapi_spec_validator "openapi-spec-validator==0.9.0"

# The web scripts under Sources/HeraldServer/Resources/web are checked with `node --check`
# (Tests/HeraldTests/Web/WebResourceLintTests.swift): Debian's nodejs.
if ! command -v node >/dev/null 2>&1; then
    echo "== installing nodejs"
    apt_install nodejs
fi

# The store suites run against PostgreSQL too: Debian's server package, started below as a throwaway cluster
# on loopback under an unprivileged user (the package's own service is never started).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    echo "== installing postgresql (server programs only; its service is not started)"
    with_services_held apt_install postgresql
fi

if [ "$install_only" = 1 ]; then
    echo "== everything the tests need is installed"
    exit 0
fi

echo "== starting a throwaway PostgreSQL cluster for the tests"
eval "$(scripts/postgres_test_cluster.sh start)"
trap 'scripts/postgres_test_cluster.sh stop "$HERALD_TEST_POSTGRES_DIR"' EXIT
# With everything installed, a suite that cannot find its tool fails rather than passing quietly.
export HERALD_REQUIRE_POSTGRES=1
export HERALD_REQUIRE_FUZZ=1

# Many suites start real servers, browsers and subprocesses with timeouts of a few seconds; with both stores
# that is a lot for two cores at once, so at most six tests run at a time (swift-testing's own setting).
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-6}

if [ $# -gt 0 ]; then
    echo "== swift test $*"
    exec swift test "$@"
fi
# The suites that play the attacker (the schema-driven fuzz, 5,000 held connections and floods, every route with
# every credential, every numeric field with extreme values, unknown fields) run after the rest, two at a time:
# beside the timing-bound suites on two cores they starved them of CPU and sockets.
hostile='APIFuzzTests|HostileHTTPProcessTests|ConnectionLimitsLiveTests|AccessScopeTests|NumberBoundsTests|UnknownFieldTests|RoutingTests'
# The suites that load the machine on purpose (thousands of pushes through the provider test servers, a fuzzed
# and flooded SMTP listener, tens of thousands of workflow runs, killed and on three nodes, three nodes delivering
# 110,000 messages under 5-second leases, which a starved node can let run out, 8,000 emails through the provider
# API servers, a webhook outage whose secondary must carry every message before a 6-second deadline, which it
# missed once beside the whole first phase) run on their own as well, for the same reason.
heavy='InboundMailServerTests|APNsTests|FCMTests|WebPushTests|PushVolumeTests|WorkflowRunTests|WorkflowProcessTests|WorkflowClusterTests|ClusterProcessTests|EmailProviderDeliveryTests|WebhookOutageTests'
# The suites that drive headless chromium time what a page shows (a live badge within a second); beside the rest
# they missed it, so they run on their own too, two at a time.
browser='BrowserComponentsTests|BrowserConsoleTests|BrowserInboxTests|BrowserPushTests'
# swift-testing prints a failure where it happens, far above the end of a long log, which is all a CI page may
# show. Each group runs even when one before it failed, its output is kept, and the run ends with every failure
# gathered, then exits non-zero if any group failed.
failures=$(mktemp)
failed=0
run_group() {
    local title=$1 log status
    shift
    log=$(mktemp)
    echo "== swift test ($title)"
    set +e
    "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" != 0 ]; then
        failed=1
        { echo "-- $title: exit $status"; grep -aE -A3 '✘|Fatal error|fatal error' "$log" | grep -av '^--$' | head -150; } >>"$failures"
    fi
    rm -f "$log"
}
run_group "all but the attacker, load and browser suites" swift test --skip "$hostile|$heavy|$browser"
SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=2 run_group "the browser suites: $browser" swift test --skip-build --filter "$browser"
SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=2 run_group "the load suites: $heavy" swift test --skip-build --filter "$heavy"
SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=2 run_group "the attacker suites: $hostile" swift test --skip-build --filter "$hostile"
if [ "$failed" = 1 ]; then
    echo "== failures, gathered from every group"
    cat "$failures"
    exit 1
fi
echo "== every group passed"
