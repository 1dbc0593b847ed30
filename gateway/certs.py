"""The agent listener's TLS material: a private CA and the broker's certificate, or the operator's.

Keys are ECDSA P-256 (fast on a modest PC, accepted by every TLS stack agents use). The broker's
certificate names every host name and address agents dial (subjectAltName), so agents verify
the host as well as the CA. Private keys are written 0600 and never printed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.files import write_private, write_public

CA_DAYS = 10 * 365
SERVER_DAYS = 2 * 365


class CertificateError(Exception):
    """Supplied TLS files do not fit together; the message says which and why."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    ca_key: Path | None = None  # only when the gateway made the CA itself


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "smartarea"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _san(hosts: list[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def generate(folder: Path, hosts: list[str], ca_name: str = "smartarea gateway CA") -> TlsFiles:
    """A new CA and a broker certificate for ``hosts`` (DNS names or IP addresses)."""
    if not hosts:
        raise CertificateError("give at least one host name or address agents will dial")
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate small clock skew
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(ca_name))
        .issuer_name(_name(ca_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_san(hosts), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_key_path = folder / "ca.key"
    files = TlsFiles(folder / "ca.crt", folder / "server.crt", folder / "server.key", ca_key_path)
    write_public(files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM))
    write_public(files.server_cert, server_cert.public_bytes(serialization.Encoding.PEM))
    write_private(files.server_key, _key_pem(server_key))
    write_private(ca_key_path, _key_pem(ca_key))
    return files


def _load_cert(path: Path, what: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise CertificateError(f"{what} {path}: no such file") from None
    except ValueError as exc:
        raise CertificateError(f"{what} {path}: not a PEM certificate ({exc})") from None


def install_supplied(folder: Path, ca: Path, cert: Path, key: Path) -> TlsFiles:
    """Copy the operator's CA, certificate and key after checking that they fit together."""
    ca_cert = _load_cert(ca, "--ca")
    server_cert = _load_cert(cert, "--cert")
    try:
        server_cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateError(f"--cert {cert} was not issued by --ca {ca}") from None
    try:
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    except FileNotFoundError:
        raise CertificateError(f"--key {key}: no such file") from None
    except (ValueError, TypeError) as exc:
        raise CertificateError(f"--key {key}: not an unencrypted PEM private key ({exc})") from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if private.public_key().public_bytes(serialization.Encoding.PEM, spki) != (
        server_cert.public_key().public_bytes(serialization.Encoding.PEM, spki)
    ):
        raise CertificateError(f"--key {key} is not the key of --cert {cert}")
    files = TlsFiles(folder / "ca.crt", folder / "server.crt", folder / "server.key")
    write_public(files.ca_cert, ca.read_bytes())
    write_public(files.server_cert, cert.read_bytes())
    write_private(files.server_key, key.read_bytes())
    return files


def server_hosts(cert_path: Path) -> list[str]:
    """The names in a certificate's subjectAltName (what agents may dial)."""
    cert = _load_cert(cert_path, "certificate")
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    hosts: list[str] = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return san.get_values_for_type(x509.DNSName) + hosts
