"""Render tables and figures as Markdown and as one self-contained HTML page."""
import base64
import html
import io
from typing import NamedTuple, Sequence

import pandas as pd
from matplotlib.figure import Figure

_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.8em; margin: 0.5em 0 1em; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: right; }
td { white-space: nowrap; } th { white-space: normal; background: #f0f0f0; }
div.scroll { overflow-x: auto; max-width: 100%; }
td:first-child, th:first-child { text-align: left; white-space: normal; }
img { max-width: 100%; } p.note { color: #555; font-size: 0.9em; }
p.summary { font-size: 1.0em; margin: 0.4em 0 0.8em; }
details { margin: 0.3em 0; } summary { cursor: pointer; font-weight: bold; }
"""


class Section(NamedTuple):
    """One titled part of the report; ``body`` is trusted HTML built by the helpers below."""

    heading: str
    body: str


def figure_png(fig: Figure, dpi: int = 110) -> bytes:
    """Encode a figure as PNG bytes.

    Args:
        fig (Figure): the figure.
        dpi (int): resolution. Defaults to 110.

    Returns:
        bytes: PNG data.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=dpi)
    return buf.getvalue()


def image_html(png: bytes, alt: str) -> str:
    """An ``<img>`` element with the PNG embedded as base64 (no external file needed)."""
    data = base64.b64encode(png).decode('ascii')
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def table_html(table: pd.DataFrame) -> str:
    """An escaped HTML table of a DataFrame (index included), scrolling when too wide."""
    body = table.to_html(escape=True, na_rep='n/a', float_format=lambda v: f'{v:.4g}', border=0)
    return f'<div class="scroll">{body}</div>'


def paragraph_html(text: str) -> str:
    """An escaped paragraph of the report's summary."""
    return f'<p class="summary">{html.escape(text)}</p>'


def details_html(title: str, body: str) -> str:
    """A collapsible block (closed by default) around trusted ``body`` HTML."""
    return f'<details><summary>{html.escape(title)}</summary>\n{body}</details>\n'


def note_html(text: str) -> str:
    """An escaped explanatory paragraph."""
    return f'<p class="note">{html.escape(text)}</p>'


def html_page(title: str, sections: Sequence[Section]) -> str:
    """A complete HTML document with inline CSS and no external resources.

    Args:
        title (str): page title and top heading.
        sections (Sequence[Section]): parts in order.

    Returns:
        str: the HTML text.
    """
    parts = [f'<h2>{html.escape(s.heading)}</h2>\n{s.body}' for s in sections]
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n'
            f'<h1>{html.escape(title)}</h1>\n' + '\n'.join(parts) + '\n</body>\n</html>\n')


def markdown_table(table: pd.DataFrame, float_digits: int = 4) -> str:
    """A GitHub-flavoured Markdown table (index included).

    pandas' ``to_markdown`` needs the optional ``tabulate`` package, which the pinned stack
    does not include, hence this short writer.

    Args:
        table (pd.DataFrame): the table.
        float_digits (int): significant digits for floats. Defaults to 4.

    Returns:
        str: the Markdown text, ending with a newline.
    """
    def cell(value: object) -> str:
        if isinstance(value, float):
            return 'n/a' if value != value else f'{value:.{float_digits}g}'
        return str(value).replace('|', '\\|')

    header = [table.index.name or ''] + [str(c) for c in table.columns]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for index, row in zip(table.index, table.itertuples(index=False)):
        lines.append('| ' + ' | '.join(cell(v) for v in (index, *row)) + ' |')
    return '\n'.join(lines) + '\n'
