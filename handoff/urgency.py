"""Urgency levels, ordered by severity (issue 4).

`Urgency` is a `StrEnum` so it stores and serialises as its value ("none", "urgent",
"emergency"), but `<`, `<=`, `>`, `>=` compare by severity, never alphabetically.
"""

from __future__ import annotations

from enum import StrEnum


class Urgency(StrEnum):
    NONE = "none"
    URGENT = "urgent"  # needs a person today
    EMERGENCY = "emergency"  # life at risk now

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def max(cls, *levels: Urgency | str) -> Urgency:
        """The most severe of `levels` (NONE when given none)."""
        best = cls.NONE
        for level in levels:
            level = cls(level)
            if level.rank > best.rank:
                best = level
        return best

    def __lt__(self, other: object) -> bool:
        if isinstance(other, Urgency):
            return self.rank < other.rank
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, Urgency):
            return self.rank <= other.rank
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, Urgency):
            return self.rank > other.rank
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, Urgency):
            return self.rank >= other.rank
        return NotImplemented


_RANK = {Urgency.NONE: 0, Urgency.URGENT: 1, Urgency.EMERGENCY: 2}
