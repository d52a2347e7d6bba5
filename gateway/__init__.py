"""The FDX v6 resource server and the app that mounts everything (docs/architecture.md §3)."""

# The one place the version is written: pyproject.toml reads it (setuptools' dynamic version),
# ``fdxgw --version`` prints it and ``/healthz`` reports it. CHANGELOG.md says what changed.
__version__ = "0.2.0"
