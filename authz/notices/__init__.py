"""Notices to consumers: what happened to their data sharing, in the portal's inbox and by
email (``authz.notices.notices``), and the records behind them (``authz.notices.store``)."""
