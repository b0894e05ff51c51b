"""Self-contained HTML from a Markdown report: one file, plots embedded as data URIs.

The Markdown is rendered by markdown-it-py (CommonMark + tables); every ``<img src="x.png">``
whose file sits next to the report is replaced by a base64 ``data:`` URI, so the page can be
mailed or archived alone. A missing image is left as a link and listed in the return value.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

__all__ = ["markdown_to_html"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #1b1f24; line-height: 1.45; }
h1, h2, h3 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #d0d7de; padding: 4px 9px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
tr:nth-child(even) td { background: #fbfcfd; }
img { max-width: 100%; }
code, pre { background: #f6f8fa; border-radius: 4px; padding: 1px 4px; font-size: 0.9em; }
pre { padding: 8px; overflow-x: auto; }
"""

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def markdown_to_html(markdown: str, base: Path, title: str = "spintwin report") -> tuple[str, list[str]]:
    """Render ``markdown`` to one HTML page; images are read relative to ``base``.

    Returns (html text, names of images that were not found).
    """
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    missing: list[str] = []

    def embed(match: re.Match) -> str:
        src = html.unescape(match.group(1))
        path = Path(base) / src
        mime = _MIME.get(path.suffix.lower())
        if "://" in src or src.startswith("data:") or mime is None:
            return match.group(0)
        if not path.is_file():
            missing.append(src)
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'src="data:{mime};base64,{data}"'

    body = re.sub(r'src="([^"]+)"', embed, body)
    page = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n{body}</body></html>\n")
    return page, missing
