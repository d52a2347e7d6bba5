"""Policy and defaults as data, plus the one settings loader.

Every other package may import from here; this package imports none of them.
"""

from config.policy import Cluster, Policy, load_policy
from config.settings import Settings, SettingsError

__all__ = ["Cluster", "Policy", "Settings", "SettingsError", "load_policy"]
