"""Who may see what, for how long: the OAuth 2.0 authorization server, consent and screens."""
