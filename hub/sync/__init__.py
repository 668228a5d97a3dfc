"""Two-way sync with a workspace's Google Sheet (SHEETS.md; operators: docs/sync.md).

The rest of the app calls `hub.sync.service` only; `engine` runs cycles one at a time per
workspace, `cycle` is one cycle, `merge` decides one cell, `layout` is the tabs as the app
sees them, `cells`/`parse`/`grid` read and write the sheet's cells, `client`/`limiter`
talk to Google, and `jobs` decides when and where cycles run.
"""
