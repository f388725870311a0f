"""LaTeX for pdflatex: an A4 article with booktabs tables, numbered captions and figures.

The output is plain ASCII: every character a report can hold (the catalogue's
``−``, ``α``, ``ω``, ``χ²``, dashes and quotes, ``✓``/``✗``, and whatever a user
put in dimension or file names) is written as a LaTeX command by :func:`escape`,
so the file compiles with ``pdflatex`` and the packages of Debian's
``texlive-latex-recommended`` (plus ``lmodern``), whatever the input encoding.

Tables are ``longtable`` environments: they break across pages with the header
row repeated, carry horizontal rules only (``\\toprule``, ``\\midrule``,
``\\bottomrule``), right-align number columns and left-align text columns, and
take the largest of four font sizes at which they fit the text width; a table
too wide even at ``\\scriptsize`` wraps its long text columns.  Each table's
cells are exactly the :class:`~servmodels.render.tables.PreparedTable` strings,
escaped.
"""

from __future__ import annotations

import unicodedata

from .catalogue import label
from .document import Document
from .tables import PreparedTable

__all__ = ["to_latex", "escape"]

#: A4 less two 2.5 cm margins, in TeX points (72.27 per inch)
_TEXT_WIDTH_PT = (21.0 - 2 * 2.5) / 2.54 * 72.27
_TEXT_WIDTH_IN = (21.0 - 2 * 2.5) / 2.54
#: \tabcolsep inside report tables, points
_TABCOLSEP_PT = 5.0
#: font sizes of the 11pt article class, largest first
_SIZES: tuple[tuple[str, float], ...] = (("normalsize", 10.95), ("small", 10.0), ("footnotesize", 9.0),
                                         ("scriptsize", 8.0))
#: advance widths of Latin Modern Roman 10 pt (= Computer Modern, cmr10.tfm), in em; others count 0.6 em
_EM: dict[str, float] = {
    **dict(zip("abcdefghijklmnopqrstuvwxyz", (0.5, 0.556, 0.444, 0.556, 0.444, 0.306, 0.5, 0.556, 0.278, 0.306, 0.528,
                                             0.278, 0.833, 0.556, 0.5, 0.556, 0.528, 0.392, 0.394, 0.389, 0.556, 0.528,
                                             0.722, 0.528, 0.528, 0.444))),
    **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (0.75, 0.708, 0.722, 0.764, 0.681, 0.653, 0.785, 0.75, 0.361, 0.514, 0.778,
                                             0.625, 0.917, 0.75, 0.778, 0.681, 0.778, 0.736, 0.556, 0.722, 0.75, 0.75,
                                             1.028, 0.75, 0.75, 0.611))),
    **dict.fromkeys("0123456789", 0.5), " ": 0.333, ".": 0.278, ",": 0.278, ";": 0.278, ":": 0.278, "(": 0.389,
    ")": 0.389, "[": 0.278, "]": 0.278, "-": 0.333, "/": 0.5, "%": 0.833, "&": 0.778, "\u2212": 0.778,
    "\u2013": 0.5, "\u2014": 1.0, "\u00b2": 0.35,
}
#: smaller design sizes are relatively wider (cmr8 is about 6 % wider per em than cmr10); plus a safety margin
_EM_SLACK = 1.08

_ASCII: dict[str, str] = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
    "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
    "|": r"\textbar{}", '"': r"\textquotedbl{}", "`": r"\textasciigrave{}", "'": r"\textquotesingle{}", "\n": " ", "\r": " ", "\t": " ",
}

#: non-ASCII characters with a LaTeX spelling (accented Latin letters are composed from :data:`_ACCENTS`)
_UNICODE: dict[str, str] = {
    "\u2212": r"\ensuremath{-}", "\u2013": "--", "\u2014": "---", "\u2010": "-", "\u2011": "-", "\u2012": "--",
    "\u2018": "`", "\u2019": "'", "\u201a": r"\quotesinglbase{}", "\u201c": "``", "\u201d": "''",
    "\u201e": r"\quotedblbase{}", "\u00ab": r"\guillemotleft{}", "\u00bb": r"\guillemotright{}",
    "\u2039": r"\guilsinglleft{}", "\u203a": r"\guilsinglright{}", "\u2026": r"\ldots{}",
    "\u00a0": "~", "\u2002": " ", "\u2003": " ", "\u2009": r"\,", "\u202f": r"\,", "\u200b": "", "\u200c": "",
    "\u200d": "", "\u2060": "", "\ufeff": "", "\u00ad": r"\-",
    "\u00b9": r"\textsuperscript{1}", "\u00b2": r"\textsuperscript{2}", "\u00b3": r"\textsuperscript{3}",
    "\u00b0": r"\textdegree{}", "\u00b1": r"\ensuremath{\pm}", "\u00d7": r"\ensuremath{\times}",
    "\u00f7": r"\ensuremath{\div}", "\u2264": r"\ensuremath{\leq}", "\u2265": r"\ensuremath{\geq}",
    "\u2260": r"\ensuremath{\neq}", "\u2248": r"\ensuremath{\approx}", "\u221e": r"\ensuremath{\infty}",
    "\u2192": r"\ensuremath{\rightarrow}", "\u2190": r"\ensuremath{\leftarrow}", "\u2194": r"\ensuremath{\leftrightarrow}",
    "\u21d2": r"\ensuremath{\Rightarrow}", "\u2032": r"\ensuremath{'}", "\u2033": r"\ensuremath{''}",
    "\u00b5": r"\ensuremath{\mu}", "\u2211": r"\ensuremath{\sum}", "\u221a": r"\ensuremath{\surd}",
    "\u2713": r"\ensuremath{\checkmark}", "\u2714": r"\ensuremath{\checkmark}",
    "\u2717": r"\ensuremath{\times}", "\u2718": r"\ensuremath{\times}",
    "\u2022": r"\textbullet{}", "\u00b7": r"\textperiodcentered{}", "\u00a7": r"\S{}", "\u00b6": r"\P{}",
    "\u00a9": r"\textcopyright{}", "\u00ae": r"\textregistered{}", "\u2122": r"\texttrademark{}",
    "\u20ac": r"\texteuro{}", "\u00a3": r"\pounds{}", "\u00a5": r"\textyen{}", "\u00a2": r"\textcent{}",
    "\u2030": r"\textperthousand{}", "\u00bc": r"\textonequarter{}", "\u00bd": r"\textonehalf{}",
    "\u00be": r"\textthreequarters{}", "\u00a1": r"\textexclamdown{}", "\u00bf": r"\textquestiondown{}",
    "\u00aa": r"\textordfeminine{}", "\u00ba": r"\textordmasculine{}", "\u00ac": r"\ensuremath{\neg}",
    "\u00df": r"\ss{}", "\u00e6": r"\ae{}", "\u00c6": r"\AE{}", "\u0153": r"\oe{}", "\u0152": r"\OE{}",
    "\u00f8": r"\o{}", "\u00d8": r"\O{}", "\u0142": r"\l{}", "\u0141": r"\L{}", "\u0131": r"\i{}",
    "\u0111": r"\dj{}", "\u0110": r"\DJ{}", "\u00f0": r"\dh{}", "\u00d0": r"\DH{}", "\u00fe": r"\th{}",
    "\u00de": r"\TH{}", "\u014b": r"\ng{}", "\u014a": r"\NG{}",
}

#: combining marks -> T1 accent commands
_ACCENTS: dict[str, str] = {
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u", "\u0307": ".",
    "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0323": "d", "\u0327": "c", "\u0328": "k",
    "\u0331": "b",
}

#: Greek letters LaTeX has a command for; the others look like Latin capitals
_GREEK_UPPER = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}
_GREEK_LIKE_LATIN = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I", "Kappa": "K",
                     "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P", "Tau": "T", "Chi": "X"}


def _greek(ch: str) -> str | None:
    """A Greek letter as a math command (``α`` -> ``\\alpha``), or None for any other character."""
    name = unicodedata.name(ch, "")
    if name == "GREEK SMALL LETTER FINAL SIGMA":
        return r"\ensuremath{\varsigma}"
    for case, prefix in (("lower", "GREEK SMALL LETTER "), ("upper", "GREEK CAPITAL LETTER ")):
        rest = name[len(prefix):]
        if not name.startswith(prefix) or " " in rest:
            continue
        word = "Lambda" if rest == "LAMDA" else rest.capitalize()
        if case == "lower":
            return "o" if word == "Omicron" else rf"\ensuremath{{\{word.lower()}}}"
        if word in _GREEK_UPPER:
            return rf"\ensuremath{{\{word}}}"
        return _GREEK_LIKE_LATIN.get(word)
    return None


def _letter(ch: str) -> str:
    """One non-ASCII character: a known symbol, Greek, an accented Latin letter, or ``[U+XXXX]``."""
    if ch in _UNICODE:
        return _UNICODE[ch]
    greek = _greek(ch)
    if greek is not None:
        return greek
    base, *marks = unicodedata.normalize("NFD", ch)
    if marks and base.isascii() and base.isalpha() and all(m in _ACCENTS for m in marks):
        body = base
        for m in marks:
            body = rf"\{_ACCENTS[m]}{{{body}}}"
        return body
    if marks:  # a letter whose accent T1 cannot draw (Greek with tonos, Vietnamese stacks): keep the letter
        return _escape_ascii(base) if base.isascii() else _letter(base)
    if unicodedata.category(ch).startswith("C"):  # control and format characters print nothing
        return ""
    # no glyph in pdflatex's T1 fonts (CJK, Cyrillic, emoji...): name the code point rather than break the compile
    return f"[U+{ord(ch):04X}]"


def _escape_ascii(ch: str) -> str:
    return _ASCII.get(ch, ch if 32 <= ord(ch) < 127 else "")


def escape(text: str) -> str:
    r"""``text`` as LaTeX source that prints it, in plain ASCII.

    TeX's specials are escaped, the typewriter quotes ``'`` and ``"`` stay
    straight, ligatures that would change the text (``--``, ``,,``) are broken
    with ``{}``, and non-ASCII characters become
    commands (``−`` is ``\ensuremath{-}``, ``α`` is ``\ensuremath{\alpha}``,
    ``é`` is ``\'{e}``); a character with no glyph in pdflatex's T1 fonts is
    written as its code point, ``[U+4E2D]``.

    Examples
    --------
    >>> print(escape("50% & more_#1 {$} ~^\\"))
    50\% \& more\_\#1 \{\$\} \textasciitilde{}\textasciicircum{}\textbackslash{}
    >>> print(escape("χ²(5) = −0,31 -- café"))
    \ensuremath{\chi}\textsuperscript{2}(5) = \ensuremath{-}0,31 -{}- caf\'{e}
    """
    text = unicodedata.normalize("NFC", str(text))
    out: list[str] = []
    for ch in text:
        if ord(ch) < 128:
            out.append(_escape_ascii(ch))
        elif unicodedata.combining(ch):
            # a mark with no precomposed letter (x̄): put the accent on the previous ASCII letter
            if ch in _ACCENTS and out and len(out[-1]) == 1 and out[-1].isalpha():
                out[-1] = rf"\{_ACCENTS[ch]}{{{out[-1]}}}"
            # otherwise the mark is dropped: T1 cannot stack it on what came before
        else:
            out.append(_letter(ch))
    return _join(out)


#: pairs of characters the T1 fonts join into a ligature (-- en dash, `` quotes, !` inverted !, ...)
_LIGATURE_PAIRS = frozenset({("-", "-"), ("`", "`"), ("'", "'"), (",", ","), ("!", "`"), ("?", "`")})


def _join(pieces: list[str]) -> str:
    """Concatenate escaped pieces, with ``{}`` where two would form a ligature neither meant."""
    out: list[str] = []
    for piece in filter(None, pieces):  # a dropped character must not join its neighbours
        if out and (out[-1][-1], piece[0]) in _LIGATURE_PAIRS:
            out.append("{}")
        out.append(piece)
    return "".join(out)


def _em(text: str) -> float:
    return sum(_EM.get(ch, 0.6) for ch in text)


def _width_pt(t: PreparedTable, size_pt: float) -> list[float]:
    """Estimated natural width of each column at ``size_pt``, padding included."""
    widths = []
    for j, h in enumerate(t.headers):
        em = max(_em(text) for text in [h, *(r[j] for r in t.rows)])
        widths.append(em * _EM_SLACK * size_pt + 2 * _TABCOLSEP_PT)
    return widths


def _wrapped(widths: list[float], align: tuple[str, ...], room: float, min_width: float) -> dict[int, float] | None:
    """Widths (padding included) for the fewest, widest text columns that, wrapped, make the table fit ``room``."""
    text = sorted((j for j, a in enumerate(align) if a == "l"), key=lambda j: -widths[j])
    for k in range(1, len(text) + 1):
        chosen = text[:k]
        left = room - sum(w for j, w in enumerate(widths) if j not in chosen)
        natural = sum(widths[j] for j in chosen)
        wrap = {j: widths[j] / natural * left for j in chosen}
        if all(min_width <= w <= widths[j] for j, w in wrap.items()):
            return wrap
    return None


def _layout(t: PreparedTable) -> tuple[str, str]:
    """The font size and column specification that fit ``t`` into the text width.

    The largest of :data:`_SIZES` at which the estimated natural width fits;
    failing that, long text columns wrapped (``p`` columns of at least 10 em) at
    ``\\footnotesize``, then ``\\scriptsize`` as it is, then wrapped as narrow as
    needed at ``\\scriptsize``.
    """
    outer = 2 * _TABCOLSEP_PT  # @{} at both ends removes the outer padding
    room = _TEXT_WIDTH_PT + outer
    pts = dict(_SIZES)
    attempts = [(size, None) for size, _ in _SIZES[:3]] + [("footnotesize", 10.0), ("scriptsize", None),
                                                           ("scriptsize", 0.0)]
    for size, min_em in attempts:
        pt = pts[size]
        widths = _width_pt(t, pt)
        if min_em is None:
            if sum(widths) <= room:
                return size, "@{}" + "".join(t.align) + "@{}"
            continue
        floor = min_em * pt + 2 * _TABCOLSEP_PT
        if min_em == 0.0:  # as narrow as needed, but a text column wraps between words, never inside one
            floor = max([_em(w) for j, a in enumerate(t.align) if a == "l"
                         for c in [t.headers[j], *(r[j] for r in t.rows)] for w in (c.split() or [""])]
                        + [3.0]) * _EM_SLACK * pt + 2 * _TABCOLSEP_PT
        wrap = _wrapped(widths, t.align, room, floor)
        if wrap is None and min_em == 0.0:  # too many columns even wrapped: give every text column its share
            text = [j for j, a in enumerate(t.align) if a == "l"]
            left = room - sum(w for j, w in enumerate(widths) if j not in text)
            # a text column may wrap between words, never inside one
            word = {j: max([_em(w) for c in [t.headers[j], *(r[j] for r in t.rows)] for w in (c.split() or [""])]
                           + [3.0]) * _EM_SLACK * pt + 2 * _TABCOLSEP_PT for j in text}
            if text and left / len(text) >= max(word.values()):
                wrap = {j: left / len(text) for j in text}
            else:
                # the number columns' long headers are the trouble: every column wraps its header, none narrower
                # than its widest cell (numbers never break)
                body = [max([_em(w) for r in t.rows for w in (r[j].split() if a == "l" else [r[j]])]
                            + [_em(w) for w in t.headers[j].split()] + [3.0])
                        * _EM_SLACK * pt + 2 * _TABCOLSEP_PT for j, a in enumerate(t.align)]
                slack = [max(w - b, 0.0) for w, b in zip(widths, body)]
                extra = max(room - sum(body), 0.0)
                share = extra / sum(slack) if sum(slack) > 0 else 0.0
                cols = [b + min(sl * share, sl) for b, sl in zip(body, slack)]
                spec = [(rf">{{\raggedright\arraybackslash}}p{{{w - 2 * _TABCOLSEP_PT:.1f}pt}}" if a == "l" else
                         rf">{{\raggedleft\arraybackslash}}p{{{w - 2 * _TABCOLSEP_PT:.1f}pt}}")
                        for w, a in zip(cols, t.align)]
                return size, "@{}" + "".join(spec) + "@{}"
        if wrap is not None:
            spec = [rf">{{\raggedright\arraybackslash}}p{{{wrap[j] - 2 * _TABCOLSEP_PT:.1f}pt}}" if j in wrap else a
                    for j, a in enumerate(t.align)]
            return size, "@{}" + "".join(spec) + "@{}"
    raise AssertionError("unreachable: the last attempt always lays the table out")  # pragma: no cover


def _row(cells: tuple[str, ...] | list[str]) -> str:
    return " & ".join(escape(c) for c in cells) + r" \\"


def _table(t: PreparedTable, lang: str) -> list[str]:
    size, spec = _layout(t)
    header = _row(t.headers)
    lines = [rf"{{\{size}\setlength{{\tabcolsep}}{{{_TABCOLSEP_PT:g}pt}}",
             rf"\begin{{longtable}}{{{spec}}}",
             rf"\caption{{{escape(t.title)}}}\\",
             r"\toprule", header, r"\midrule", r"\endfirsthead",
             r"\toprule", header, r"\midrule", r"\endhead",
             r"\bottomrule", r"\endfoot"]
    lines += [_row(r) for r in t.rows]
    lines += [r"\end{longtable}}"]
    if t.note:
        lines += [rf"{{\footnotesize\noindent\textit{{{escape(label('note', lang))}.}} {escape(t.note)}\par}}"]
    lines += [r"\medskip", ""]
    return lines


def _figure(name: str, caption: str, width_in: float, figure_dir: str, suffix: str) -> list[str]:
    frac = min(1.0, width_in / _TEXT_WIDTH_IN)
    width = r"\linewidth" if frac >= 1.0 else f"{frac:.3f}\\linewidth"
    return [r"\begin{figure}[H]", rf"\caption{{{escape(caption)}}}",
            rf"\includegraphics[width={width},height=0.85\textheight,keepaspectratio]{{{figure_dir}/{name}{suffix}.png}}", r"\end{figure}", ""]


def _is_hash(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


_PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\usepackage{textcomp}
\usepackage{amssymb}
\usepackage[a4paper,margin=2.5cm]{geometry}
\usepackage{graphicx}
\usepackage{array}
\usepackage{booktabs}
\usepackage{longtable}
\usepackage{float}
\usepackage{caption}
\captionsetup{labelfont=bf,textfont=it,labelsep=period,justification=raggedright,singlelinecheck=false,
  position=top,skip=4pt}
\setlength{\LTleft}{0pt}
\setlength{\LTright}{\fill}
\captionsetup[longtable]{margin=0pt,width=\linewidth}
\setlength{\LTpre}{\medskipamount}
\setlength{\LTpost}{2pt}
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5\baselineskip}
"""


def to_latex(doc: Document, figure_suffix: str = "", figure_dir: str = "figures") -> str:
    """The document as a LaTeX source for pdflatex.

    Parameters
    ----------
    doc : Document
        The report (:func:`~servmodels.render.build_document`).
    figure_suffix : str
        Appended to each figure's name: figures are included as
        ``{figure_dir}/{name}{figure_suffix}.png``, relative to the ``.tex`` file
        (:func:`~servmodels.render.write_report` writes them there).
    figure_dir : str
        Folder of the figures, relative to the ``.tex`` file.

    Returns
    -------
    str
        ASCII text; compile with ``pdflatex`` (``texlive-latex-recommended`` and
        ``lmodern`` are enough).

    Examples
    --------
    >>> import servmodels as sm
    >>> from servmodels.render import build_document
    >>> a = sm.analyze(sm.read_survey(sm.load_example()), analyses=["scores"])
    >>> tex = to_latex(build_document(a, "id", figures=False))
    >>> tex.isascii(), "{Tabel}" in tex
    (True, True)
    """
    lang = doc.lang
    lines = [_PREAMBLE.rstrip("\n"),
             rf"\renewcommand{{\tablename}}{{{escape(label('table', lang))}}}",
             rf"\renewcommand{{\figurename}}{{{escape(label('figure', lang))}}}",
             r"\begin{document}", "",
             r"\begin{center}", rf"{{\LARGE\bfseries {escape(doc.title)}\par}}\medskip",
             rf"{{\large {escape(doc.subtitle)}\par}}", r"\end{center}", "",
             rf"\section*{{{escape(label('provenance', lang))}}}",
             r"{\small",
             r"\noindent\begin{tabular}{@{}>{\raggedright\arraybackslash\bfseries}p{4.5cm}"
             r">{\raggedright\arraybackslash}p{\dimexpr\linewidth-4.5cm-2\tabcolsep\relax}@{}}"]
    for key, value in doc.provenance:
        shown = rf"{{\footnotesize\ttfamily {value}}}" if _is_hash(value) else escape(value)
        lines.append(rf"{escape(key)} & {shown} \\")
    lines += [r"\end{tabular}\par}", ""]
    for s in doc.sections:
        lines += [rf"\section*{{{escape(s.title)}}}", ""]
        for t in s.tables:
            lines += _table(t, lang)
        lines += [escape(p) + "\n" for p in s.paragraphs]
        if s.warnings:
            lines += [rf"\textbf{{{escape(label('warnings', lang))}}}", r"\begin{itemize}"]
            lines += [rf"\item {escape(w)}" for w in s.warnings]
            lines += [r"\end{itemize}", ""]
    if doc.figures:
        lines += [rf"\section*{{{escape(label('figures', lang))}}}", ""]
        for f in doc.figures.values():
            lines += _figure(f.name, f.caption, f.width_in, figure_dir, figure_suffix)
    if doc.sentences:
        lines += [rf"\section*{{{escape(label('sentences', lang))}}}", r"\begin{itemize}"]
        lines += [rf"\item {escape(x)}" for x in doc.sentences]
        lines += [r"\end{itemize}", ""]
    if doc.skipped:
        lines += [rf"\section*{{{escape(label('skipped', lang))}}}", r"\begin{itemize}"]
        lines += [rf"\item \textbf{{{escape(a)}}}: {escape(r)}" for a, r in doc.skipped]
        lines += [r"\end{itemize}", ""]
    lines += [r"\end{document}"]
    return "\n".join(lines) + "\n"
