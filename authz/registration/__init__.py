"""Recipient onboarding: dynamic client registration (RFC 7591/7592, FDX ``/register``), the
ecosystem registry's software statements, the bank's approve/suspend/reinstate decisions, and
client keys fetched from a registered ``jwks_uri``.

Modules, one noun each: ``endpoint`` (the /register routes), ``metadata`` (validating and
rendering client metadata), ``statement`` (software statements), ``recipients`` (status
decisions, used by ``fdxgw recipients`` and the admin API), ``jwks_fetcher`` (SSRF-guarded key
fetching), ``errors`` (the RFC 7591 error codes). Import them directly: this package's import
stays empty so ``authz.client_auth`` can use the fetcher without a cycle.
"""
