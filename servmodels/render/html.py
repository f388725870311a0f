"""Self-contained HTML: no script, no external resource, every text autoescaped.

Layout (checked in headless Chromium by ``tests/test_report_browser.py``): a
960-pixel text column; APA captions above tables and figures (bold number, italic
title); each table in a ``div.table-wrap`` that scrolls sideways when the table is
wider than the column, so the page itself never does; figures shown at their
printed size (pixels over the PNG's dpi, in CSS inches) and never wider than the
column; the provenance list stacks on narrow screens.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from .catalogue import label
from .document import Document

__all__ = ["to_html"]

_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ doc.lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ doc.title }}</title>
<style>
body{font-family:"Times New Roman",Georgia,serif;max-width:960px;margin:2em auto;padding:0 1em;color:#111;line-height:1.4}
header{border-bottom:2px solid #111;margin-bottom:1.5em}header h1{margin-bottom:.1em}header p{margin-top:0;color:#444}
dl.provenance{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.15em 1em;font-size:.9em}
dl.provenance dt{font-weight:bold}dl.provenance dd{margin:0;overflow-wrap:anywhere}
@media (max-width:600px){dl.provenance{grid-template-columns:minmax(0,1fr)}dl.provenance dd{margin:0 0 .3em 1em}}
figure{margin:1.2em 0}
figcaption{margin-bottom:.4em}figcaption .number{display:block;font-weight:bold}figcaption .title{display:block;font-style:italic}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:0 0 .2em;font-size:.85em;font-variant-numeric:tabular-nums}
th,td{padding:.15em .6em;white-space:nowrap}
thead th{border-top:2px solid #111;border-bottom:1px solid #111}
tbody tr:last-child td{border-bottom:2px solid #111}
.l{text-align:left}.r{text-align:right}
p.note{font-size:.8em;margin:.1em 0 0}
ul.warnings{color:#8a4b00;font-size:.85em}
figure img{display:block;max-width:100%;height:auto}
</style></head>
<body>
<header><h1>{{ doc.title }}</h1><p>{{ doc.subtitle }}</p></header>
<section id="provenance"><h2>{{ provenance_title }}</h2>
<dl class="provenance">{% for k, v in doc.provenance %}<dt>{{ k }}</dt><dd>{{ v }}</dd>{% endfor %}</dl></section>
{% for s in sections %}<section id="{{ s.key }}"><h2>{{ s.title }}</h2>
{% for t in s.tables %}<figure class="table" id="{{ t.id }}" data-key="{{ t.table.key }}">
<figcaption><span class="number">{{ table_word }} {{ t.number }}</span> <span class="title">{{ t.table.title }}</span></figcaption>
<div class="table-wrap"><table>
<thead><tr>{% for h in t.table.headers %}<th class="{{ t.table.align[loop.index0] }}">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in t.table.rows %}<tr>{% for c in row %}<td class="{{ t.table.align[loop.index0] }}">{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% if t.table.note %}<p class="note"><em>{{ note_word }}.</em> {{ t.table.note }}</p>{% endif %}</figure>
{% endfor %}
{% for p in s.section.paragraphs %}<p>{{ p }}</p>{% endfor %}
{% if s.section.warnings %}<ul class="warnings">{% for w in s.section.warnings %}<li>{{ warning_word }}: {{ w }}</li>{% endfor %}</ul>{% endif %}
</section>
{% endfor %}
{% if figures %}<section id="figures"><h2>{{ figures_title }}</h2>
{% for f in figures %}<figure class="figure" id="figure-{{ f.name }}">
<figcaption><span class="number">{{ figure_word }} {{ loop.index }}</span> <span class="title">{{ f.caption }}</span></figcaption>
<img alt="{{ f.caption }}" width="{{ f.width }}" height="{{ f.height }}" src="data:image/png;base64,{{ f.data }}"></figure>
{% endfor %}</section>{% endif %}
{% if doc.sentences %}<section id="sentences"><h2>{{ sentences_title }}</h2><ul>{% for x in doc.sentences %}<li>{{ x }}</li>{% endfor %}</ul></section>{% endif %}
{% if doc.skipped %}<section id="skipped"><h2>{{ skipped_title }}</h2><ul>{% for name, why in doc.skipped %}<li><strong>{{ name }}</strong>: {{ why }}</li>{% endfor %}</ul></section>{% endif %}
</body></html>
"""

#: the prefix of each warning line (the catalogue's "warnings" is the plural heading)
_WARNING = {"en": "Warning", "id": "Peringatan"}


def _png_size(png: bytes) -> tuple[int, int, float]:
    """Width and height in pixels and dots per inch (the ``pHYs`` chunk; 96 when absent) of a PNG."""
    width, height = struct.unpack(">II", png[16:24])
    dpi, pos = 96.0, 8
    while pos + 8 <= len(png):
        size, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"pHYs":
            per_x, _, unit = struct.unpack(">IIB", png[pos + 8:pos + 17])
            if unit == 1 and per_x > 0:  # pixels per metre
                dpi = per_x * 0.0254
            break
        if kind == b"IDAT":
            break
        pos += 12 + size
    return width, height, dpi


def _figure(name: str, caption: str, png: bytes) -> dict[str, Any]:
    # shown at the size it is printed (CSS has 96 px to the inch), so its 9-point text
    # stands to the page's text as on paper; narrower columns shrink it (max-width: 100%)
    w, h, dpi = _png_size(png)
    return {"name": name, "caption": caption, "width": round(w * 96 / dpi), "height": round(h * 96 / dpi),
            "data": base64.b64encode(png).decode()}


def to_html(doc: Document) -> str:
    """The document as one HTML page (figures embedded as PNG data URIs)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    sections: list[dict[str, Any]] = []
    used: dict[str, int] = {}
    number = 0
    for s in doc.sections:
        tables = []
        for t in s.tables:
            number += 1
            used[t.key] = used.get(t.key, 0) + 1  # one id per table: a report has one sample table per group
            tables.append({"table": t, "number": number,
                           "id": f"table-{t.key}" + (f"-{used[t.key]}" if used[t.key] > 1 else "")})
        sections.append({"key": s.key, "title": s.title, "section": s, "tables": tables})
    lang = doc.lang
    return env.from_string(_TEMPLATE).render(
        doc=doc, sections=sections, provenance_title=label("provenance", lang), table_word=label("table", lang),
        note_word=label("note", lang), warning_word=_WARNING[lang], figures_title=label("figures", lang),
        figure_word=label("figure", lang),
        figures=[_figure(f.name, f.caption, f.png) for f in doc.figures.values()],
        sentences_title=label("sentences", lang), skipped_title=label("skipped", lang))
