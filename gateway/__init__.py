"""The FDX v6 resource server and the app that mounts everything (docs/architecture.md §3)."""
