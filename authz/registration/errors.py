"""Registration errors (RFC 7591 §3.2.2, RFC 7592 §2), rendered by ``authz.errors`` like every
other OAuth error: ``{"error", "error_description"}`` with 400, or 401 for a bad registration
access token."""

from __future__ import annotations

from authz.errors import OAuth2Error


class InvalidRedirectUriError(OAuth2Error):
    """RFC 7591 §3.2.2: a redirect URI is not https, has a fragment, or is not a URL."""

    error = "invalid_redirect_uri"


class InvalidClientMetadataError(OAuth2Error):
    """RFC 7591 §3.2.2: a metadata field is invalid or not one we can honour."""

    error = "invalid_client_metadata"


class InvalidSoftwareStatementError(OAuth2Error):
    """RFC 7591 §3.2.2: the software statement is missing, malformed, expired or tampered."""

    error = "invalid_software_statement"


class UnapprovedSoftwareStatementError(OAuth2Error):
    """RFC 7591 §3.2.2: the statement is not signed by a registry this bank trusts."""

    error = "unapproved_software_statement"


class InvalidRegistrationTokenError(OAuth2Error):
    """RFC 7592 §2 / RFC 6750 §3.1: the registration access token is missing, unknown or not this
    client's. Always 401, whichever it was, so the endpoint tells nobody which clients exist."""

    error = "invalid_token"
    status_code = 401
