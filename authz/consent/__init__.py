"""Consent: the FDX ConsentGrant, which is also the OAuth grant every token hangs from."""

from authz.consent.model import (
    Consent,
    ConsentEvent,
    ConsentResource,
    ConsentStatus,
    DurationType,
)

__all__ = ["Consent", "ConsentEvent", "ConsentResource", "ConsentStatus", "DurationType"]
