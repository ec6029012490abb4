"""Page contexts + Jinja2 + Markdown -> in-memory pages and downloads; no file I/O."""
