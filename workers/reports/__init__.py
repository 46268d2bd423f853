"""Monthly reports (Setagaya 別紙6, Kashiwa monthly) and the manager dashboard. Counting rules: README.md here."""
