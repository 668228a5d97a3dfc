"""Two-way sync with a workspace's Google Sheet (SHEETS.md); parse.py reads its cells."""
