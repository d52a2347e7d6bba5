"""The FDX v6 resource server and the app that mounts everything (design.md §3)."""
