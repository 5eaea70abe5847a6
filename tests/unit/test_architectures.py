"""The architecture catalogue (bench.catalogue.architectures): an entry point may name a card or a module class."""

from __future__ import annotations

import pytest

from bench.catalogue.architectures import ArchitectureCard, as_card


def test_an_architecture_entry_point_may_name_a_card_or_a_module_class():
    from bench.pipeline.models.networks import TinyMlp

    card = ArchitectureCard("m:C", "d")
    assert as_card(card) is card
    made = as_card(TinyMlp)
    assert made.target == "bench.pipeline.models.networks:TinyMlp" and made.description.startswith("A one-hidden-layer MLP")
    with pytest.raises(TypeError):
        as_card(42)
