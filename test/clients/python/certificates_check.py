"""Certificates and application summaries as Python azure-batch sees them:
add (cer and pfx), get with public_data, list with a filter, CertificateExists,
the key segment in the URL as msrest builds it, deletefailed while a pool
references the certificate, cancel_deletion, and ApplicationNotFound. The
certificate is made with openssl; without it the certificate checks are skipped."""

import base64
import os
import shutil
import subprocess
import tempfile

import azure.batch.models as batchmodels

from common import batch_client, batch_error, check, ensure, finish, skip, ubuntu_pool, unique, wait_for

batch = batch_client()
POOL_ID = unique("py-cert-pool")
PASSWORD = "py-check"


def make_certificate(directory):
    def path(name):
        return os.path.join(directory, name)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", path("key.pem"), "-out", path("cert.pem"), "-subj", "/CN=py-check", "-days", "2"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-in", path("cert.pem"), "-outform", "DER", "-out", path("cert.cer")], check=True, capture_output=True)
    subprocess.run(["openssl", "pkcs12", "-export", "-in", path("cert.pem"), "-inkey", path("key.pem"), "-out", path("cert.pfx"),
                    "-passout", "pass:" + PASSWORD], check=True, capture_output=True)
    fingerprint = subprocess.run(["openssl", "x509", "-in", path("cert.pem"), "-noout", "-fingerprint", "-sha1"],
                                 check=True, capture_output=True, text=True).stdout
    thumbprint = fingerprint.strip().split("=", 1)[1].replace(":", "")
    with open(path("cert.cer"), "rb") as cer, open(path("cert.pfx"), "rb") as pfx:
        return thumbprint, base64.b64encode(cer.read()).decode(), base64.b64encode(pfx.read()).decode()


def state_of(thumbprint):
    try:
        return batch.certificate.get("sha1", thumbprint).state
    except batchmodels.BatchErrorException as error:
        if error.error.code == "CertificateNotFound":
            return "gone"
        raise


def certificate_checks(thumbprint, cer, pfx):
    def add_cer():
        batch.certificate.add(batchmodels.CertificateAddParameter(
            thumbprint=thumbprint, thumbprint_algorithm="sha1", data=cer, certificate_format=batchmodels.CertificateFormat.cer))

    def get():
        certificate = batch.certificate.get("sha1", thumbprint.lower())
        ensure(certificate.thumbprint == thumbprint, certificate.thumbprint)
        ensure(certificate.state == batchmodels.CertificateState.active, certificate.state)
        ensure(certificate.public_data == cer, "public_data is the DER")

    def listed():
        found = list(batch.certificate.list(batchmodels.CertificateListOptions(filter="state eq 'active'")))
        ensure(thumbprint in [c.thumbprint for c in found], found)

    def delete_fails_while_a_pool_references_it():
        pool = ubuntu_pool(POOL_ID, 0)
        pool.certificate_references = [batchmodels.CertificateReference(thumbprint=thumbprint, thumbprint_algorithm="sha1")]
        batch.pool.add(pool)
        batch.certificate.delete("sha1", thumbprint)
        wait_for("deletefailed", lambda: state_of(thumbprint) == "deletefailed")
        failed = batch.certificate.get("sha1", thumbprint)
        ensure(failed.delete_certificate_error is not None and failed.delete_certificate_error.code == "PoolsReferencingCertificate", "deleteCertificateError")
        ensure([(v.name, v.value) for v in failed.delete_certificate_error.values] == [("Pools", POOL_ID)], [(v.name, v.value) for v in failed.delete_certificate_error.values])

    def cancel_deletion():
        batch.certificate.cancel_deletion("sha1", thumbprint)
        ensure(state_of(thumbprint) == "active")

    def delete_once_unreferenced():
        batch.pool.delete(POOL_ID)
        wait_for("the pool to go", lambda: POOL_ID not in [p.id for p in batch.pool.list()])
        batch.certificate.delete("sha1", thumbprint)
        wait_for("the certificate to go", lambda: state_of(thumbprint) == "gone")

    def add_pfx():
        batch.certificate.add(batchmodels.CertificateAddParameter(
            thumbprint=thumbprint, thumbprint_algorithm="sha1", data=pfx,
            certificate_format=batchmodels.CertificateFormat.pfx, password=PASSWORD))
        ensure(state_of(thumbprint) == "active")
        batch.certificate.delete("sha1", thumbprint)
        wait_for("the pfx certificate to go", lambda: state_of(thumbprint) == "gone")

    check("certificate.add (cer)", add_cer)
    check("certificate.get: thumbprint, state and public_data", get)
    check("certificate.list with $filter", listed)
    check("certificate.add again: CertificateExists (409)", lambda: batch_error(add_cer, "CertificateExists", 409))
    check("certificate.cancel_deletion of an active certificate: CertificateStateActive (409)", lambda: batch_error(
        lambda: batch.certificate.cancel_deletion("sha1", thumbprint), "CertificateStateActive", 409))
    check("certificate.delete while a pool references it: deletefailed", delete_fails_while_a_pool_references_it)
    check("certificate.cancel_deletion: active again", cancel_deletion)
    check("certificate.delete once no pool references it: gone", delete_once_unreferenced)
    check("certificate.add (pfx with password), then delete", add_pfx)


if shutil.which("openssl"):
    workdir = tempfile.mkdtemp(prefix="lapis-py-certs-")
    try:
        certificate_checks(*make_certificate(workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
else:
    skip("certificates", "openssl is not installed")

check("application.list", lambda: list(batch.application.list()))
check("application.get missing: ApplicationNotFound (404)", lambda: batch_error(
    lambda: batch.application.get("no-such-app"), "ApplicationNotFound", 404))
finish()
