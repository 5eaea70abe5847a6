"""Render a ``ReportDoc`` as GitHub-flavoured Markdown."""

from __future__ import annotations

from bench.reporting.doc import ReportDoc, markdown_table


def render_markdown(doc: ReportDoc, figures: bool = True, title: str | None = None) -> str:
    """Markdown; figures are referenced by their path relative to the run folder (plots/<name>.png)."""
    out = [f"# {title or doc.title}\n", f"_{doc.subtitle}_\n"]
    for sec in doc.sections:
        if sec.figures_only and not figures:
            continue
        out.append(f"\n## {sec.title}\n")
        if sec.text:
            out.append(sec.text + "\n")
        for table in sec.tables:
            body = markdown_table(table.frame)
            if table.title:
                body = f"**{table.title}**\n\n{body}"
            if table.collapsed:
                # GitHub renders Markdown inside <details> when blank lines surround it.
                body = f"<details><summary>{table.collapsed}</summary>\n\n{body}\n</details>\n"
            out.append(body)
        for p in sec.plots if figures else ():
            pdf = f", [PDF](plots/{p.pdf.name})" if p.pdf else ""
            out.append(f"### {p.title}\n\n![{p.title}](plots/{p.png.name})\n\n{p.caption} ([SVG](plots/{p.svg.name}){pdf})\n")
        if sec.code:
            out.append(f"<details><summary>{sec.code_title}</summary>\n\n```json\n{sec.code}\n```\n\n</details>\n")
    return "\n".join(out)
