"""report.html: the report model as one self-contained, inert HTML page.

Jinja2 with autoescaping on for every value, figures as ``data:`` PNG images, no script, and a
Content-Security-Policy that forbids scripts and remote loads even if something slipped
through, so opening the packet's report cannot run anything a hostile post contained.
"""

from __future__ import annotations

import base64
import re

import jinja2

from detector.evidence.report import Bullets, Figure, Para, Report, Table

LONG_TOKEN_CHARS = 25       # a run this long without a space (a URL, an id, a hash) may break anywhere

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ report.title }}</title>
<style>
body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #1a1a1a; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
  border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
.subtitle { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .8rem 0; font-size: .85rem; table-layout: auto; }
table.small { font-size: .78rem; }
th, td { border: 1px solid #d0d0d0; padding: .25rem .4rem; vertical-align: top; text-align: left;
         white-space: pre-wrap; word-break: normal; overflow-wrap: break-word; }
/* Only long unbroken tokens (links, ids, hashes) may break anywhere; words wrap whole. */
.token { overflow-wrap: anywhere; }
th { background: #f2f2f2; }
caption { caption-side: top; text-align: left; color: #444; padding-bottom: .3rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: .85rem; }
nav ul { columns: 2; } :target { background: #fff3bf; }
@media print { body { max-width: none; margin: 0; } a { color: inherit; } }
</style>
</head>
<body>
{%- macro parts(ps) %}{% for text, long in ps %}{% if long %}<span class="token">{{ text }}</span>{% else %}{{ text }}{% endif %}{% endfor %}{% endmacro %}
<h1>{{ report.title }}</h1>
<p class="subtitle">{{ report.subtitle }}</p>
<nav><ul>{% for s in report.sections %}<li><a href="#{{ s.id }}">{{ s.title }}</a></li>{% endfor %}</ul></nav>
{% for s in report.sections %}
<section id="{{ s.id }}">
<h2>{{ s.title }}</h2>
{% for b in s.blocks %}
{% if b.kind == "para" %}<p>{% if b.strong %}<strong>{{ b.strong }}</strong>{% endif %}{{ b.text }}</p>
{% elif b.kind == "bullets" %}<ul>{% for item in b.entries %}<li>{{ item }}</li>{% endfor %}</ul>
{% elif b.kind == "figure" %}<figure><img src="{{ b.src }}" alt="{{ b.caption }}"><figcaption>{{ b.caption }}</figcaption></figure>
{% elif b.kind == "table" %}<table{% if b.small %} class="small"{% endif %}>
{% if b.caption %}<caption>{{ b.caption }}</caption>{% endif %}
<thead><tr>{% for col in b.columns %}<th>{{ col }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in b.rows %}<tr>{% for cell in row %}<td{% if cell.anchor %} id="{{ cell.anchor }}"{% endif %}>
{%- if cell.href %}<a href="{{ cell.href }}" rel="noopener noreferrer nofollow">{{ parts(cell.parts) }}</a>
{%- else %}{{ parts(cell.parts) }}{% endif %}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{% endif %}
{% endfor %}
</section>
{% endfor %}
</body>
</html>
"""


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.DictLoader({"report.html": _TEMPLATE}), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _view(block) -> dict:
    if isinstance(block, Para):
        return {"kind": "para", "text": block.text, "strong": block.strong}
    if isinstance(block, Bullets):
        return {"kind": "bullets", "entries": block.items}
    if isinstance(block, Figure):
        src = "data:image/png;base64," + base64.b64encode(block.png).decode("ascii")
        return {"kind": "figure", "src": src, "caption": block.caption}
    if isinstance(block, Table):
        rows = [[{"parts": _parts(c.text), "href": _safe_href(c.href), "anchor": c.anchor} for c in row]
                for row in block.rows]
        return {"kind": "table", "columns": block.columns, "rows": rows, "small": block.small,
                "caption": block.caption}
    raise TypeError(f"unknown block {type(block).__name__}")


_LONG_TOKEN = re.compile(rf"\S{{{LONG_TOKEN_CHARS},}}")


def _parts(text: str) -> list[tuple[str, bool]]:
    """``text`` split into (piece, is a long unbroken token): only those may break anywhere."""
    out, at = [], 0
    for m in _LONG_TOKEN.finditer(text):
        if m.start() > at:
            out.append((text[at:m.start()], False))
        out.append((m.group(), True))
        at = m.end()
    if at < len(text):
        out.append((text[at:], False))
    return out


def _safe_href(href: str | None) -> str | None:
    """Only https links (built from validated ids) and internal anchors are ever clickable."""
    if not href:
        return None
    return href if href.startswith(("https://", "#")) else None


def render_html(report: Report) -> bytes:
    sections = [{"id": s.id, "title": s.title, "blocks": [_view(b) for b in s.blocks]} for s in report.sections]
    html = _env().get_template("report.html").render(
        report={"title": report.title, "subtitle": report.subtitle, "sections": sections})
    return html.encode("utf-8")
