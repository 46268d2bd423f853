"""The missing-person protocol (issue 8; Setagaya 003 §1(2)⑤): intake (別紙8-3), the 30-minute
ward report, daily status checks, the found report (別紙8-4) and 別紙6 §5."""
