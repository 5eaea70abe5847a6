"""Figures: drawn from DataFrames (never from files), each saved as PNG, SVG and PDF with the data it shows.

Modules:

* ``plots``: Figures for reports, drawn from DataFrames (never from files), each saved as PNG, SVG and PDF.
* ``examples``: The examples figure: clean and adversarial inputs of each model's strongest attack, with predictions.
* ``reuse``: A report's figure is drawn again only when what it is drawn from, or what draws it, changed.
"""
