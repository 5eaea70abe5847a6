"""The one table of attack families, shared by the masking checks and the leaderboard."""

from __future__ import annotations

import pytest

from bench.catalogue.attacks import ATTACKS
from bench.results.families import FAMILIES, family_name, family_of


def test_every_registered_attack_has_a_family():
    # bench's own keys are listed; a plug-in's (installed or a test's) takes its family by name, see below.
    own = [key for key in ATTACKS.keys() if ATTACKS.origin(key) == "bench"]
    missing = [key for key in own if key not in FAMILIES]
    assert not missing, f"add these registry keys to bench.results.families.FAMILIES: {missing}"
    assert not set(FAMILIES) - set(own), "families of attacks that are no longer registered"


def test_roles_match_what_the_attacks_declare():
    for key, fam in FAMILIES.items():
        kind = ATTACKS.get(key).kind
        assert (fam.role == "minimum-norm") == (kind == "min_norm"), key
        assert not fam.reaches_all or kind == "min_norm", f"{key}: only an unbounded attack can be expected to break every sample"
        assert fam.role != "gradient-free" or fam.gradient_free, key


@pytest.mark.parametrize(
    "use, source, family",
    [
        ("art.cw_l2", "", "cw"),
        ("bench.cw_l2", "", "cw"),
        ("torchattacks.pgdl2", "", "pgd"),
        ("art.pgd", "", "pgd"),
        ("bench.pgd_margin", "", "pgd_margin"),
        ("torchattacks.square", "", "square"),
        ("torchattacks.pgd", "baseline", "transfer"),
    ],
)
def test_family_name(use, source, family):
    assert family_name(use, source) == family


def test_an_unlisted_key_is_its_own_family_with_no_role():
    fam = family_of("myplugin.fancy")
    assert (fam.name, fam.role, fam.reaches_all) == ("fancy", "other", False)


def test_an_unlisted_key_named_like_a_listed_one_shares_its_family():
    assert family_of("myplugin.pgd") == FAMILIES["torchattacks.pgd"]
    assert family_of("myplugin.cw_l2") == FAMILIES["art.cw_l2"]
