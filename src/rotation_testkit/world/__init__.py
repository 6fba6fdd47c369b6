"""Layer 5, the world: one test's (or one contract check's) parts wired together.

:class:`World` builds the simulated AWS, the execution parts and the observers for one test and
implements the Protocols the lower layers define, so they can reach it without importing it.
"""

from .world import World, active_world, has_active_world

__all__ = ["World", "active_world", "has_active_world"]
