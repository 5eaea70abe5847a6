"""What every drawn figure must have on disk."""

from __future__ import annotations


def both_files(plot) -> None:
    """The PNG (not empty), the SVG and the PDF of a drawn figure exist."""
    assert plot.png.is_file() and plot.png.stat().st_size > 1000
    assert plot.svg.is_file() and plot.svg.read_text().lstrip().startswith("<?xml")
    assert plot.pdf is not None and plot.pdf.read_bytes().startswith(b"%PDF-")
