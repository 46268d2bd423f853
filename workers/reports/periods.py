"""Report periods in Asia/Tokyo: a month, its fiscal year (年度, April–March) and the Reiwa year."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from frontdoor.clock import JST, to_jst

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        found = _MONTH.match(text.strip())
        if not found or not 1 <= int(found.group(2)) <= 12:
            raise ValueError(f"month must be YYYY-MM, got {text!r}")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> Month:
        local = to_jst(moment)
        return cls(local.year, local.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def fiscal_year(self) -> int:
        """年度: April 2026 – March 2027 is 2026年度."""
        return self.year if self.month >= 4 else self.year - 1

    @property
    def fiscal_start(self) -> Month:
        return Month(self.fiscal_year, 4)

    @property
    def reiwa_fiscal_year(self) -> int:
        """令和 year of the fiscal year (令和元年 = 2019)."""
        return self.fiscal_year - 2018

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) of the month in Asia/Tokyo, as aware UTC (for columns without local_date)."""
        start = datetime.combine(self.first_day, time(0), JST).astimezone(timezone.utc)
        end = datetime.combine(self.next().first_day, time(0), JST).astimezone(timezone.utc)
        return start, end

    def months_back(self, count: int) -> list[Month]:
        """`count` months ending with this one, oldest first."""
        months = [self]
        while len(months) < count:
            months.append(months[-1].previous())
        return list(reversed(months))


def last_month(now: datetime) -> Month:
    """The month before `now` in Asia/Tokyo (beat runs on the 1st at 01:00 JST)."""
    return Month.of(now).previous()
