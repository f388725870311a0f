"""Self-contained HTML: no script, no external resource, every text autoescaped."""

from __future__ import annotations

import base64

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
dl.provenance{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;font-size:.9em}
dl.provenance dt{font-weight:bold}dl.provenance dd{margin:0;overflow-wrap:anywhere}
.table-wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5em 0 .2em;font-size:.85em;font-variant-numeric:tabular-nums}
caption{text-align:left;font-style:italic;padding-bottom:.3em}
th,td{padding:.15em .6em;white-space:nowrap}
thead th{border-top:2px solid #111;border-bottom:1px solid #111}
tbody tr:last-child td{border-bottom:2px solid #111}
.l{text-align:left}.r{text-align:right}
p.note{font-size:.8em;margin:.1em 0 1em}
ul.warnings{color:#8a4b00;font-size:.85em}
figure{margin:1em 0}figure img{max-width:100%;height:auto}figcaption{font-style:italic;font-size:.9em}
</style></head>
<body>
<header><h1>{{ doc.title }}</h1><p>{{ doc.subtitle }}</p></header>
<section id="provenance"><h2>{{ provenance_title }}</h2>
<dl class="provenance">{% for k, v in doc.provenance %}<dt>{{ k }}</dt><dd>{{ v }}</dd>{% endfor %}</dl></section>
{% for s in doc.sections %}<section id="{{ s.key }}"><h2>{{ s.title }}</h2>
{% for t in s.tables %}<div class="table-wrap"><table id="table-{{ t.key }}" data-key="{{ t.key }}">
<caption>{{ table_word }} {{ numbers[t.key ~ loop.index0 ~ s.key] }}. {{ t.title }}</caption>
<thead><tr>{% for h in t.headers %}<th class="{{ t.align[loop.index0] }}">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in t.rows %}<tr>{% for c in row %}<td class="{{ t.align[loop.index0] }}">{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>
{% if t.note %}<p class="note"><em>{{ note_word }}.</em> {{ t.note }}</p>{% endif %}{% endfor %}
{% for p in s.paragraphs %}<p>{{ p }}</p>{% endfor %}
{% if s.warnings %}<ul class="warnings">{% for w in s.warnings %}<li>{{ warning_word }}: {{ w }}</li>{% endfor %}</ul>{% endif %}
</section>
{% endfor %}
{% if figures %}<section id="figures"><h2>{{ figures_title }}</h2>
{% for f in figures %}<figure id="figure-{{ f.name }}"><img alt="{{ f.caption }}" src="data:image/png;base64,{{ f.data }}">
<figcaption>{{ figure_word }} {{ loop.index }}. {{ f.caption }}</figcaption></figure>{% endfor %}</section>{% endif %}
{% if doc.sentences %}<section id="sentences"><h2>{{ sentences_title }}</h2><ul>{% for x in doc.sentences %}<li>{{ x }}</li>{% endfor %}</ul></section>{% endif %}
{% if doc.skipped %}<section id="skipped"><h2>{{ skipped_title }}</h2><ul>{% for name, why in doc.skipped %}<li><strong>{{ name }}</strong>: {{ why }}</li>{% endfor %}</ul></section>{% endif %}
</body></html>
"""


def to_html(doc: Document) -> str:
    """The document as one HTML page (figures embedded as PNG data URIs)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    numbers: dict[str, int] = {}
    k = 0
    for s in doc.sections:
        for i, t in enumerate(s.tables):
            k += 1
            numbers[f"{t.key}{i}{s.key}"] = k
    lang = doc.lang
    return env.from_string(_TEMPLATE).render(
        doc=doc, numbers=numbers, provenance_title=label("provenance", lang), table_word=label("table", lang),
        note_word=label("note", lang), warning_word=label("warnings", lang).rstrip("s").rstrip("an") if lang == "en"
        else "Peringatan", figures_title=label("figures", lang), figure_word=label("figure", lang),
        figures=[{"name": f.name, "caption": f.caption, "data": base64.b64encode(f.png).decode()} for f in doc.figures.values()],
        sentences_title=label("sentences", lang), skipped_title=label("skipped", lang))
