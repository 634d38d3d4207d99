"""report.pdf: the report model drawn on A4 pages with fpdf2, deterministically.

Everything is drawn as text (never interpreted as markup), in DejaVu Sans with the fallback fonts
of :mod:`.fonts` (Chinese, Arabic script, emoji) and HarfBuzz text shaping (uharfbuzz), so
Uyghur is joined and right-to-left and every script of the demo case is real text a reader can
select and search. A character no loaded font has is drawn as '�' (runs of three or more as
'[…]') and counted: :func:`render_pdf` then warns (:class:`UndrawnTextWarning`) with the count,
which ``detector packet`` prints. Without uharfbuzz, Arabic-script runs are replaced by a note
pointing to report.html rather than drawn with letters in the wrong order. The creation date is
fixed by the caller and fpdf2's file id is a hash of the content, so the same report gives the
same bytes.
"""

from __future__ import annotations

import importlib.util
import io
import re
import unicodedata
import warnings
from collections import Counter
from datetime import datetime
from functools import lru_cache

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import FontFace

from detector.evidence.fonts import INSTALL_HINT, dejavu, describe, fallback_fonts, missing_roles
from detector.evidence.report import Bullets, Figure, Para, Report, Table

_ARABIC = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
_ARABIC_RUN = re.compile(f"[{_ARABIC}](?:[{_ARABIC}\\s\u060c\u061f.,!?:;«»()0-9\u0660-\u0669-]*[{_ARABIC}])?")
ARABIC_NOTE = "[Arabic-script text: see report.html]"
# Scripts whose letters change shape or order in context (Hebrew, Arabic, Syriac, Thaana, N'Ko,
# Indic, Thai, Lao, Tibetan, Myanmar, Khmer, Mongolian; presentation forms). Shaping costs
# HarfBuzz calls at every line break, so only blocks holding such text are shaped.
_COMPLEX = re.compile("[\u0590-\u08ff\u0900-\u0dff\u0e00-\u0eff\u0f00-\u109f\u1780-\u18af\ufb1d-\ufdff"
                      "\ufe70-\ufeff]")
MISSING_NOTE = "[…]"


class UndrawnTextWarning(UserWarning):
    """Some characters of a report had no glyph in any font the PDF could load."""

    def __init__(self, missing: Counter):
        self.missing = missing
        total = sum(missing.values())
        sample = "".join(ch for ch, _ in missing.most_common(12))
        absent = missing_roles()
        hint = (f"; fonts not found for: {', '.join(describe(r) for r in absent)}: {INSTALL_HINT}" if absent else "")
        super().__init__(f"report.pdf could not draw {total} character{'' if total == 1 else 's'} "
                         f"({len(missing)} distinct: {sample}); they are marked '\ufffd' or '[…]' in the PDF, "
                         f"and report.html and the CSV files hold the exact text{hint}")


@lru_cache(maxsize=8)
def _cmap(path: str, index: int = 0) -> frozenset[int]:
    with TTFont(path, fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap())


def shaping_available() -> bool:
    return importlib.util.find_spec("uharfbuzz") is not None


class _Text:
    """Make any string drawable by the loaded fonts, saying so where something is left out.

    ``missing`` counts every character no font has, for the warning.
    """

    def __init__(self, covered: frozenset[int], shaping: bool):
        self.covered = covered
        self.shaping = shaping
        self.missing: Counter = Counter()

    def shape_for(self, pdf: FPDF, *texts: str) -> None:
        """Turn HarfBuzz shaping on for the next drawing when any of ``texts`` needs it, else off."""
        pdf.set_text_shaping(self.shaping and any(_COMPLEX.search(str(t)) for t in texts))

    def __call__(self, text: str) -> str:
        text = unicodedata.normalize("NFC", str(text))
        if not self.shaping:
            text = _ARABIC_RUN.sub(ARABIC_NOTE, text)
        out, missing = [], 0

        def flush():
            nonlocal missing
            if missing:
                out.append(MISSING_NOTE if missing >= 3 else "\ufffd" * missing)
            missing = 0

        for ch in text:
            cat = unicodedata.category(ch)
            if ch in "\n\t":
                flush()
                out.append(ch if ch == "\n" else " ")
            elif cat in ("Cf", "Cc", "Cs", "Co") or 0xFE00 <= ord(ch) <= 0xFE0F:
                continue                      # zero-width joiners, variation selectors, controls
            elif ord(ch) in self.covered:
                if ch == " " and missing:
                    continue                  # keep a run of missing characters together
                flush()
                out.append(ch)
            else:
                self.missing[ch] += 1
                missing += 1
        flush()
        return "".join(out)


class _PDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", "", 7)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.footer_text}  ·  page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0)

    def _render_styled_text_line(self, *args, **kwargs):
        # fpdf2 2.8.9: when a line's first glyph comes from a fallback font, the current font is set
        # only inside that line's q…Q, yet marked as set for the page, so the next lines are drawn
        # with no font (poppler: "No font in show"; the text vanishes). Setting it for the page
        # first, outside any q…Q, avoids that path.
        if not self.current_font_is_set_on_page and self.current_font is not None:
            self._out(self._set_font_for_page(self.current_font, self.font_size_pt))
        return super()._render_styled_text_line(*args, **kwargs)


def _load_fonts(pdf: FPDF) -> frozenset[int]:
    """Add DejaVu Sans and every fallback font found; the code points they cover together."""
    regular, bold = dejavu("DejaVuSans.ttf"), dejavu("DejaVuSans-Bold.ttf")
    pdf.add_font("DejaVu", "", regular)
    pdf.add_font("DejaVu", "B", bold)
    covered = _cmap(regular) | _cmap(bold)
    names = []
    for font in fallback_fonts():
        try:
            pdf.add_font(f"Fallback-{font.role}", "", font.path, collection_font_number=font.index)
        except Exception:  # noqa: BLE001 - a font fpdf2 cannot read is simply not used (and its text counted)
            continue
        names.append(f"Fallback-{font.role}")
        covered |= _cmap(font.path, font.index)
    if names:
        pdf.set_fallback_fonts(names, exact_match=False)
    return covered


def render_pdf(report: Report, created: datetime, footer: str) -> bytes:
    """The report as A4 PDF bytes; ``created`` is written as the creation date (keep it fixed).

    Warns with :class:`UndrawnTextWarning` (and the count) when some characters had no glyph.
    """
    pdf = _PDF(orientation="P", unit="mm", format="A4")
    pdf.footer_text = footer
    pdf.set_creation_date(created)
    pdf.set_title(report.title)
    pdf.set_creator("mass-report-detector")
    pdf.set_producer("fpdf2")
    pdf.set_lang("en")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    covered = _load_fonts(pdf)
    clean = _Text(covered, shaping_available())
    pdf.alias_nb_pages()
    pdf.add_page()
    clean.shape_for(pdf, report.title, report.subtitle, *(s.title for s in report.sections))
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 7, clean(report.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8.5)
    pdf.set_text_color(80)
    pdf.multi_cell(0, 4.5, clean(report.subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    for section in report.sections:
        if pdf.get_y() > pdf.h - 60:
            pdf.add_page()
        pdf.ln(4)
        pdf.set_font("DejaVu", "B", 12)
        pdf.cell(0, 7, clean(section.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(180)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(1.5)
        for block in section.blocks:
            _block(pdf, block, clean)
    body = bytes(pdf.output())
    if clean.missing:
        warnings.warn(UndrawnTextWarning(clean.missing), stacklevel=2)
    return body


def _texts(block) -> list[str]:
    if isinstance(block, Para):
        return [block.strong, block.text]
    if isinstance(block, Bullets):
        return list(block.items)
    if isinstance(block, Figure):
        return [block.caption]
    if isinstance(block, Table):
        return [block.caption, *block.columns, *(c.text for row in block.rows for c in row)]
    return []


def _block(pdf: FPDF, block, clean: _Text) -> None:
    clean.shape_for(pdf, *_texts(block))
    if isinstance(block, Para):
        pdf.set_font("DejaVu", "", 9)
        if block.strong:
            pdf.set_font("DejaVu", "B", 9)
            pdf.write(4.6, clean(block.strong))
            pdf.set_font("DejaVu", "", 9)
        if block.text:
            pdf.write(4.6, clean(block.text))
        pdf.ln(6)
    elif isinstance(block, Bullets):
        pdf.set_font("DejaVu", "", 9)
        for item in block.items:
            pdf.set_x(pdf.l_margin + 2)
            pdf.cell(4, 4.6, "•")
            pdf.multi_cell(pdf.epw - 6, 4.6, clean(item), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(0.8)
        pdf.ln(1.5)
    elif isinstance(block, Figure):
        width = min(block.width_mm, pdf.epw)
        from PIL import Image

        with Image.open(io.BytesIO(block.png)) as im:
            height = width * im.height / im.width
        if pdf.get_y() + height + 12 > pdf.h - pdf.b_margin:
            pdf.add_page()
        pdf.image(io.BytesIO(block.png), x=pdf.l_margin + (pdf.epw - width) / 2, w=width)
        pdf.set_font("DejaVu", "", 7.5)
        pdf.set_text_color(70)
        pdf.multi_cell(0, 3.8, clean(block.caption), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
        pdf.ln(2)
    elif isinstance(block, Table):
        _table(pdf, block, clean)
    else:
        raise TypeError(f"unknown block {type(block).__name__}")


# A table row must fit on one page: a cell longer than this (a 4,096-character Telegram message, or
# one full of line breaks) is cut in the PDF, which says so; report.html and the CSVs keep it whole.
PDF_CELL_CHARS = 600
PDF_CELL_LINES = 14
CUT_NOTE = " […cut here; the whole text is in report.html and the CSV files]"


def pdf_cell_text(text: str, limit: int = PDF_CELL_CHARS, max_lines: int = PDF_CELL_LINES) -> str:
    """``text`` as a PDF table cell shows it: at most ``limit`` characters and ``max_lines`` lines."""
    lines = text.split("\n")
    cut = len(text) > limit or len(lines) > max_lines
    if not cut:
        return text
    return "\n".join(lines[:max_lines])[:limit].rstrip() + CUT_NOTE


def _table(pdf: FPDF, block: Table, clean: _Text) -> None:
    size = 6.5 if block.small else 7.5
    if block.caption:
        pdf.set_font("DejaVu", "", 8)
        pdf.set_text_color(70)
        pdf.multi_cell(0, 4, clean(block.caption), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)
        pdf.ln(0.5)
    if not block.rows:
        pdf.set_font("DejaVu", "", 8)
        pdf.cell(0, 5, "(none)", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        return
    pdf.set_font("DejaVu", "", size)
    pdf.set_draw_color(190)
    heading = FontFace(emphasis="BOLD", fill_color=(238, 238, 238))
    with pdf.table(col_widths=block.widths, width=pdf.epw, text_align="LEFT", line_height=size * 0.48,
                   headings_style=heading, padding=0.8, repeat_headings=1) as table:
        row = table.row()
        for col in block.columns:
            row.cell(clean(col))
        for cells in block.rows:
            row = table.row()
            for c in cells:
                href = c.href if c.href and c.href.startswith("https://") else None
                row.cell(clean(pdf_cell_text(c.text)), link=href)
    pdf.ln(3)
