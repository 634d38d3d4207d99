"""Ed25519 signatures over a packet's manifest, with a key pair the user holds (``cryptography``).

``detector keygen KEY`` writes ``KEY`` (the private key, PKCS#8 PEM, mode 0600; encrypted when
``DETECTOR_KEY_PASSPHRASE`` is set) and ``KEY.pub`` (the public key, PEM). ``detector packet
--sign-key KEY`` puts ``signature.json`` in the packet: a detached signature over the exact bytes
of ``manifest.json``, with the public key and its fingerprint. As the manifest lists the SHA-256
of every other file, the signature covers the whole packet but itself.

A signature proves who signed only to someone who knows the signer's fingerprint from elsewhere
(the key is in the packet: anyone can re-sign a rewritten manifest with a key of their own).
``detector verify --key KEY.pub`` checks against the key the recipient holds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from detector.errors import DetectorError

SIGNATURE = "signature.json"
PASSPHRASE_ENV = "DETECTOR_KEY_PASSPHRASE"
_RAW = {"encoding": serialization.Encoding.Raw, "format": serialization.PublicFormat.Raw}


def fingerprint(public: Ed25519PublicKey) -> str:
    """Lower-case hex SHA-256 of the 32 raw public-key bytes (what ``verify`` prints)."""
    return hashlib.sha256(public.public_bytes(**_RAW)).hexdigest()


def _passphrase(environ=None) -> bytes | None:
    value = (os.environ if environ is None else environ).get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def generate_keypair(out: str | Path, environ=None) -> tuple[Path, Path, str]:
    """Write a new private key to ``out`` (mode 0600, never over an existing file) and its public
    key to ``out.pub``; returns (private path, public path, fingerprint)."""
    out = Path(out)
    pub_path = out.with_name(out.name + ".pub")
    for path in (out, pub_path):
        if path.exists():
            raise DetectorError("a file of that name exists; keys are never overwritten", path,
                                hint="choose another name or move the old key away")
    key = Ed25519PrivateKey.generate()
    secret = _passphrase(environ)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(secret) if secret
                            else serialization.NoEncryption())
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)   # 0600 from the first byte
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo))
    return out, pub_path, fingerprint(key.public_key())


def load_private_key(path: str | Path, environ=None) -> Ed25519PrivateKey:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DetectorError(f"cannot read the signing key ({exc.strerror})", path) from None
    try:
        key = serialization.load_pem_private_key(data, password=_passphrase(environ))
    except TypeError:
        raise DetectorError("the signing key is encrypted", path, hint=f"set {PASSPHRASE_ENV}") from None
    except ValueError:
        raise DetectorError("not a readable private key (or a wrong passphrase)", path,
                            hint="make one with: detector keygen KEY") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise DetectorError("the signing key is not an Ed25519 key", path, hint="make one with: detector keygen KEY")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """A public key file as ``keygen`` writes it (``KEY.pub``, PEM)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DetectorError(f"cannot read the public key ({exc.strerror})", path) from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise DetectorError("not a PEM public key", path, hint="give the KEY.pub that detector keygen wrote") from None
    if not isinstance(key, Ed25519PublicKey):
        raise DetectorError("the public key is not an Ed25519 key", path)
    return key


def signature_file(manifest_bytes: bytes, key: Ed25519PrivateKey) -> bytes:
    """The bytes of ``signature.json`` for ``manifest_bytes``."""
    return _signature_bytes(manifest_bytes, key.public_key(), key.sign(manifest_bytes))


def _signature_bytes(manifest_bytes: bytes, public: Ed25519PublicKey, signature: bytes) -> bytes:
    body = {"algorithm": "ed25519", "signed_file": "manifest.json",
            "signed_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
            "public_key": base64.b64encode(public.public_bytes(**_RAW)).decode("ascii"),
            "fingerprint": fingerprint(public),
            "signature": base64.b64encode(signature).decode("ascii")}
    return (json.dumps(body, indent=1) + "\n").encode("utf-8")


@dataclass
class SignatureCheck:
    """``signed``: the packet has a signature file; ``valid``: it verifies over the manifest (and,
    when a key was given, was made by that key)."""

    signed: bool = False
    valid: bool = False
    fingerprint: str | None = None
    problem: str | None = None

    def line(self) -> str:
        if not self.signed:
            return "signature: " + (self.problem or "unsigned")
        state = "signature valid" if self.valid else f"signature INVALID ({self.problem})"
        return f"signature: signed by {self.fingerprint or 'an unreadable key'}, {state}"


def check_signature(manifest_bytes: bytes, signature_bytes: bytes | None,
                    expected: Ed25519PublicKey | None = None) -> SignatureCheck:
    """Check ``signature.json`` (None when the packet has none) against the manifest's bytes."""
    if signature_bytes is None:
        return SignatureCheck(problem="unsigned, but a key was given: no signature to check" if expected else None)
    check = SignatureCheck(signed=True)
    try:
        body = json.loads(signature_bytes)
        raw_key = base64.b64decode(body["public_key"], validate=True)
        signature = base64.b64decode(body["signature"], validate=True)
        public = Ed25519PublicKey.from_public_bytes(raw_key)
        if body.get("algorithm") != "ed25519":
            raise ValueError("algorithm")
    except (ValueError, KeyError, TypeError):
        check.problem = f"{SIGNATURE} is unreadable"
        return check
    check.fingerprint = fingerprint(public)
    if body.get("fingerprint") != check.fingerprint:
        check.problem = "the fingerprint it states is not its key's"
        return check
    try:
        public.verify(signature, manifest_bytes)
    except InvalidSignature:
        check.problem = "manifest.json is not what was signed"
        return check
    if expected is not None and fingerprint(expected) != check.fingerprint:
        check.problem = f"signed by another key than the one given ({fingerprint(expected)})"
        return check
    # Byte for byte what signing writes: the file is outside the manifest, so it may hold nothing more.
    if signature_bytes != _signature_bytes(manifest_bytes, public, signature):
        check.problem = f"{SIGNATURE} holds more than the signature"
        return check
    check.valid = True
    return check
