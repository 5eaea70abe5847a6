"""The site's page pieces (bench.reporting.site.pages): file names that never collide, escaping, and safe links."""

from __future__ import annotations

from bench.reporting.site.pages import cell, esc, kv, safe_url, slug


def test_slugs_are_file_name_safe_and_ids_that_read_alike_get_different_files():
    assert slug("Distilled T=100") == "distilled-t-100-" + slug("Distilled T=100").rsplit("-", 1)[1]
    assert slug("a_b") != slug("a-b") and slug("a_b").startswith("a-b-")
    assert slug("<script>").startswith("script-") and slug("").startswith("x-")
    assert slug("mnist", "/runs/1") != slug("mnist", "/runs/2")


def test_escaping_covers_text_and_quoted_attributes():
    assert esc('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    assert kv([("<k>", None), ("v", "&")]) == '<dl class="kv"><dt>&lt;k&gt;</dt><dd>–</dd><dt>v</dt><dd>&amp;</dd></dl>'


def test_only_http_links_are_kept():
    assert safe_url("https://arxiv.org/abs/1608.04644") == "https://arxiv.org/abs/1608.04644"
    assert safe_url("javascript:alert(1)") == "" and safe_url(" data:text/html,x") == "" and safe_url("") == ""


def test_cells_carry_their_sort_key_and_unmeasured_sorts_last():
    assert cell("1", 1.0, "num") == '<td class="num" data-v="1.0">1</td>'
    assert cell("–", float("nan"), "num") == '<td class="num" data-v="">–</td>'
    assert cell("x") == "<td>x</td>"
