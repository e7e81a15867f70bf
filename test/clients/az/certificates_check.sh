#!/usr/bin/env bash
# az batch certificate and application summary commands against Lapis:
# create from a .cer and from a .pfx (az picks the format by the extension),
# show with publicData, list, CertificateExists, delete --abort of an active
# certificate, delete; ApplicationNotFound from application summary show.
# The certificate is made with openssl; without it the check is skipped.
set -euo pipefail
cd "$(dirname "$0")"
source ./lib.sh

if ! command -v openssl >/dev/null 2>&1; then
  echo "SKIP openssl is not installed"
  exit 0
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -subj /CN=az-check -days 2 2>/dev/null
openssl x509 -in "$WORK/cert.pem" -outform DER -out "$WORK/cert.cer"
openssl pkcs12 -export -in "$WORK/cert.pem" -inkey "$WORK/key.pem" -out "$WORK/cert.pfx" -passout pass:az-check 2>/dev/null
TP="$(openssl x509 -in "$WORK/cert.pem" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')"

cert_state() { azb certificate show --thumbprint "$TP" --query state -o tsv 2>/dev/null || echo gone; }

step "certificate create from a .cer file"
expect_eq "$(azb certificate create --certificate-file "$WORK/cert.cer" --thumbprint "$TP" --query state -o tsv)" "active"
pass

step "certificate show: publicData is the certificate's DER"
expect_eq "$(azb certificate show --thumbprint "$TP" --query publicData -o tsv)" "$(base64 -w0 "$WORK/cert.cer")"
pass

step "certificate list"
expect_contains "$(azb certificate list --query "[].thumbprint" -o tsv)" "$TP"
pass

step "certificate create twice: CertificateExists"
expect_error "The specified certificate already exists." azb certificate create --certificate-file "$WORK/cert.cer" --thumbprint "$TP"
pass

step "certificate delete --abort of an active certificate: CertificateStateActive"
expect_error "active state" azb certificate delete --thumbprint "$TP" --abort --yes
pass

step "certificate delete: it goes"
azb certificate delete --thumbprint "$TP" --yes
wait_for gone cert_state
pass

step "certificate create from a .pfx file with its password"
expect_eq "$(azb certificate create --certificate-file "$WORK/cert.pfx" --thumbprint "$TP" --password az-check --query state -o tsv)" "active"
azb certificate delete --thumbprint "$TP" --yes
wait_for gone cert_state
pass

step "application summary show of a missing application: ApplicationNotFound"
expect_error "The specified application does not exist." azb application summary show --application-id no-such-app
pass
