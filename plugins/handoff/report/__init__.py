"""The deployment report of a run: model, builder and renderers (Markdown, HTML, JSON)."""
