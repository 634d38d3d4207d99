"""RFC 3161 trusted timestamps over a packet's manifest: the request, the TSA's answer, its check.

``detector timestamp PACKET --tsa URL`` (run when online) sends a ``TimeStampReq`` with the
SHA-256 of ``manifest.json``, a random nonce and a request for the TSA's certificate, and stores
the DER ``TimeStampResp`` in the packet as ``timestamp.tsr``. ``--request-out`` writes the request
for another tool instead, and ``--response`` stores an answer obtained that way.

:func:`check_response` parses an answer (``asn1crypto``) and checks that it was granted, that its
message imprint is the manifest's hash, and that the token's CMS signature verifies
(``cryptography``) with the certificate the token carries. Whether that TSA is trusted (its chain
to a root) is for the reader to decide, e.g. ``openssl ts -verify -data manifest.json -in
timestamp.tsr -CAfile tsa-chain.pem``.

References: RFC 3161 (Time-Stamp Protocol), RFC 5652 section 5.4 (signed attributes).
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from asn1crypto import algos, core, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from detector.errors import DetectorError

TIMESTAMP = "timestamp.tsr"
MAX_RESPONSE = 1 << 20
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def timestamp_request(data: bytes, nonce: int | None = None) -> bytes:
    """A DER ``TimeStampReq`` over SHA-256 of ``data``, asking for the TSA's certificate."""
    request = tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256", "parameters": core.Null()}),
                            "hashed_message": hashlib.sha256(data).digest()},
        "nonce": nonce,
        "cert_req": True,
    })
    return request.dump()


def request_nonce(request: bytes) -> int | None:
    return tsp.TimeStampReq.load(request)["nonce"].native


def new_nonce() -> int:
    return secrets.randbits(63)


def post_request(url: str, request: bytes, timeout: float = 30.0) -> bytes:
    """POST ``request`` to the TSA at ``url`` (RFC 3161 section 3.4) and return its answer's bytes."""
    if not url.startswith(("https://", "http://")):
        raise DetectorError(f"{url!r} is not an http(s) address", hint="give the TSA's URL, e.g. https://freetsa.org/tsr")
    req = urllib.request.Request(url, data=request, method="POST",
                                 headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:      # noqa: S310 (the user's TSA)
            body = resp.read(MAX_RESPONSE + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DetectorError(f"the TSA did not answer ({exc})", hint="are you online? is the URL right?") from None
    if len(body) > MAX_RESPONSE:
        raise DetectorError("the TSA's answer is larger than 1 MiB; not a timestamp response")
    return body


@dataclass
class TimestampCheck:
    """What :func:`check_response` found. ``ok`` when granted, the imprint matches and the token's
    signature verifies with its own certificate."""

    status: str | None = None
    gen_time: str | None = None
    tsa: str | None = None
    imprint_algorithm: str | None = None
    imprint_matches: bool = False
    signature: str = "not checked"          # "valid", "invalid", or why it was not checked
    signer: str | None = None
    nonce: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.imprint_matches and self.signature == "valid"

    def line(self) -> str:
        if self.status is None:
            return f"timestamp: unreadable ({'; '.join(self.problems)})"
        head = f"timestamp: {self.gen_time} by {self.tsa or self.signer or 'an unnamed TSA'}"
        parts = ["imprint matches manifest.json" if self.imprint_matches else "imprint DOES NOT MATCH manifest.json",
                 f"token signature {self.signature}" + (f" ({self.signer})" if self.signer else "")]
        parts += self.problems
        return f"{head}; " + "; ".join(parts)


def check_response(response: bytes, data: bytes, nonce: int | None = None) -> TimestampCheck:
    """Parse a DER ``TimeStampResp`` and check it against ``data`` (the manifest's bytes)."""
    check = TimestampCheck()
    try:
        resp = tsp.TimeStampResp.load(response, strict=True)
        check.status = resp["status"]["status"].native
        if check.status not in ("granted", "granted_with_mods"):
            texts = resp["status"]["status_string"].native or []
            check.problems.append(f"the TSA refused ({check.status}{': ' + '; '.join(texts) if texts else ''})")
            return check
        signed = resp["time_stamp_token"]["content"]
        content = signed["encap_content_info"]["content"]
        info = content.parsed
        imprint = info["message_imprint"]
        check.imprint_algorithm = imprint["hash_algorithm"]["algorithm"].native
        check.gen_time = info["gen_time"].native.strftime("%Y-%m-%dT%H:%M:%SZ")
        check.nonce = info["nonce"].native
        tsa = info["tsa"]
        check.tsa = tsa.chosen.human_friendly if tsa.native is not None and tsa.name == "directory_name" else None
        if check.imprint_algorithm not in _HASHES:
            check.problems.append(f"imprint hashed with {check.imprint_algorithm}, not SHA-2")
        else:
            check.imprint_matches = imprint["hashed_message"].native == hashlib.new(check.imprint_algorithm, data).digest()
        if nonce is not None and check.nonce != nonce:
            check.problems.append("the nonce is not the request's (a replayed answer?)")
        check.signature, check.signer = _token_signature(signed, content.contents)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        check.problems.append(f"not a readable RFC 3161 response ({exc.__class__.__name__})")
    return check


def _token_signature(signed, econtent: bytes) -> tuple[str, str | None]:
    """Check the token's first SignerInfo (RFC 5652 5.4): the message-digest attribute is the hash
    of the TSTInfo, and the signature over the DER SET OF signed attributes verifies with the
    certificate the SignerInfo names. Returns (state, signer's subject)."""
    signer = signed["signer_infos"][0]
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        return f"not checked (digest {digest_name})", None
    attrs = signer["signed_attrs"]
    digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
    if not digests or digests[0] != hashlib.new(digest_name, econtent).digest():
        return "invalid (its message digest is not the token's content)", None
    cert = _signer_certificate(signed, signer["sid"])
    if cert is None:
        return "not checked (the response carries no certificate of its signer)", None
    subject = cert.subject.human_friendly
    signed_bytes = b"\x31" + attrs.dump()[1:]       # [0] IMPLICIT tag back to SET OF for the signature
    signature = signer["signature"].native
    algo = signer["signature_algorithm"].signature_algo
    try:
        public = x509.load_der_x509_certificate(cert.dump()).public_key()
        chosen = _HASHES[digest_name]()
        if algo == "rsassa_pkcs1v15" and isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, signed_bytes, padding.PKCS1v15(), chosen)
        elif algo == "ecdsa" and isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, signed_bytes, ec.ECDSA(chosen))
        else:
            return f"not checked (signature algorithm {algo})", subject
    except InvalidSignature:
        return "invalid", subject
    except (ValueError, UnsupportedAlgorithm) as exc:
        return f"not checked ({exc.__class__.__name__})", subject
    return "valid", subject


def _signer_certificate(signed, sid):
    for choice in signed["certificates"] if signed["certificates"].native is not None else []:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if cert.issuer == ias["issuer"] and cert.serial_number == ias["serial_number"].native:
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    return None


def timestamp_packet(path, tsa_url: str | None = None, response: bytes | None = None,
                     post=post_request) -> TimestampCheck:
    """Timestamp the packet at ``path``: ask the TSA at ``tsa_url`` (with ``post``), or take
    ``response`` obtained elsewhere, check it against the manifest and store it in the packet as
    ``timestamp.tsr`` (the ZIP is rewritten atomically; every other entry keeps its bytes).

    Raises DetectorError when the packet is not intact or the answer does not check.
    """
    from detector.evidence.packet import MANIFEST, rewrite_packet
    from detector.evidence.verify import verify_packet

    state = verify_packet(path)
    if not state.intact:
        raise DetectorError("the packet is not intact; it is not timestamped", path,
                            hint="detector verify names what is wrong")
    manifest = packet_entry(path, MANIFEST)
    nonce = None
    if response is None:
        if not tsa_url:
            raise DetectorError("give --tsa URL (online) or --response FILE (an answer obtained elsewhere)")
        nonce = new_nonce()
        response = post(tsa_url, timestamp_request(manifest, nonce))
    check = check_response(response, manifest, nonce)
    if not check.ok:
        raise DetectorError(f"the timestamp does not check: {check.line()}", path)
    rewrite_packet(path, {TIMESTAMP: response})
    return check


def packet_entry(path, name: str) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return zf.read(name)
