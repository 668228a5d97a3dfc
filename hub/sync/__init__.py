"""Two-way sync with a workspace's Google Sheet: client, layout, parse, merge, cycle, jobs."""
