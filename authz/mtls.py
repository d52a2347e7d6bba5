"""mTLS certificate-bound tokens (RFC 8705 §3) behind a TLS-terminating proxy.

The gateway does not terminate TLS itself: a proxy (nginx, envoy, a load balancer) checks the
handshake and forwards the client's certificate in a header, URL-encoded PEM as nginx's
``$ssl_client_escaped_cert`` gives it. That header is believed only when the request comes from a
configured proxy address; from anywhere else it is removed from the request and ignored, since
any client could set it. A token is bound by ``cnf`` ``x5t#S256``, the base64url SHA-256 of the
certificate's DER encoding (§3.1). Certificates are parsed with ``cryptography``, and the
thumbprint of a header value is cached, so the FDX hot path pays for a dictionary lookup.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from collections import OrderedDict
from collections.abc import Sequence
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from starlette.requests import Request

MAX_CERT_CHARS = 16384
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class CertificateError(Exception):
    """The trusted proxy forwarded something that is not one client certificate."""


class ClientCertificates:
    """Reads the client certificate a trusted proxy forwards; built once per app."""

    def __init__(
        self, header: str, trusted_proxies: Sequence[str], *, cache_size: int = 1024
    ) -> None:
        self.header = header.lower()
        self._raw_header = self.header.encode("latin-1")
        self._trusted: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(p, strict=False) for p in trusted_proxies
        )
        self._thumbprints: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size

    def thumbprint(self, request: Request) -> str | None:
        """``x5t#S256`` of the forwarded certificate; None when there is none, or when the
        request did not come through a trusted proxy (the header is then stripped). Raises
        ``CertificateError`` for a malformed one."""
        values = request.headers.getlist(self.header)
        if not values:
            return None
        if not self._from_proxy(request):
            request.scope["headers"] = [
                (k, v) for k, v in request.scope["headers"] if k.lower() != self._raw_header
            ]
            request.__dict__.pop("_headers", None)  # Starlette caches the parsed headers
            return None
        if len(values) != 1:
            raise CertificateError("more than one client certificate header")
        value = values[0].strip()
        if not value:
            return None  # nginx sends an empty value when the client presented no certificate
        cached = self._thumbprints.get(value)
        if cached is not None:
            return cached
        digest = certificate_thumbprint(value)
        self._thumbprints[value] = digest
        if len(self._thumbprints) > self._cache_size:
            self._thumbprints.popitem(last=False)
        return digest

    def _from_proxy(self, request: Request) -> bool:
        client = request.client
        if client is None:
            return False
        try:
            address = ipaddress.ip_address(client.host)
        except ValueError:
            return False
        return any(address in network for network in self._trusted)


def certificate_thumbprint(forwarded: str) -> str:
    """RFC 8705 §3.1 ``x5t#S256`` of a URL-encoded (or plain) PEM certificate."""
    if len(forwarded) > MAX_CERT_CHARS:
        raise CertificateError("the client certificate is too large")
    pem = unquote(forwarded) if "%" in forwarded else forwarded
    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
        der = cert.public_bytes(Encoding.DER)
    except (ValueError, UnicodeEncodeError):
        raise CertificateError("the client certificate is not a PEM certificate") from None
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode("ascii")
