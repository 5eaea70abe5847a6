"""``bench.layout``: the one list of modules, the package maps drawn from it, and the size of each folder."""

from __future__ import annotations

from bench import layout


def test_every_module_is_listed_once_and_every_listed_module_exists():
    on_disk, listed = layout.modules_on_disk(), layout.listed_modules()
    assert on_disk, "found no modules under bench/"
    assert sorted(on_disk - listed) == [], "add these modules to bench.layout.PACKAGES"
    assert sorted(listed - on_disk) == [], "bench.layout.PACKAGES names modules that do not exist"
    names = [f"{p}.{m}" for p, modules in layout.PACKAGES.items() for m in modules]
    assert len(names) == len(set(names))


def test_every_module_says_what_it_is_in_one_line():
    assert [m for m in sorted(layout.listed_modules()) if not layout.summary(m)] == []


def test_package_docstrings_end_with_their_current_map():
    assert layout.stale_maps() == [], "run: python -m bench.layout"


def test_no_folder_holds_more_than_twelve_modules():
    sizes = {p: len(list(layout.source_path(p).parent.glob("*.py"))) for p in layout.PACKAGES}
    assert sizes and max(sizes.values()) <= 12, {p: n for p, n in sizes.items() if n > 12}


def test_a_stale_map_is_found_and_rewritten(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""A package.\n\nModules:\n\n* ``gone``: old.\n"""\n\nX = 1\n')
    (pkg / "one.py").write_text('"""The first module."""\n')
    monkeypatch.setattr(layout, "ROOT", tmp_path)
    monkeypatch.setattr(layout, "PACKAGES", {"bench.pkg": ("one",)})
    assert layout.stale_maps() == ["bench.pkg"]
    assert layout.write_maps() == ["bench.pkg"]
    text = (pkg / "__init__.py").read_text()
    assert text == '"""A package.\n\nModules:\n\n* ``one``: The first module.\n"""\n\nX = 1\n'
    assert layout.stale_maps() == []


def test_the_layout_page_names_every_module():
    page = layout.layout_markdown()
    for package, modules in layout.PACKAGES.items():
        for m in modules:
            assert f"`{m}.py`" in page
        assert layout.summary(package) in page


def test_unit_test_files_are_named_after_the_modules_they_test():
    # tests/unit/conftest.py states the scheme: test_<module>.py, or test_<package>_<module>.py where a name is shared.
    names = set()
    for package, modules in layout.PACKAGES.items():
        last = package.rsplit(".", 1)[-1]
        names |= {last, *modules, *(f"{last}_{m}" for m in modules)}
    tests = sorted(layout.ROOT.parent.joinpath("tests", "unit").glob("test_*.py"))
    assert tests, "found no unit test files"
    stray = [t.name for t in tests if t.stem.removeprefix("test_") not in names | {"layers", "layout"}]
    assert stray == [], "name these after the module they test"
