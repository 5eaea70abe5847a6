"""AutoAttack (Croce & Hein 2020) through the official code, the ``pyautoattack`` package (imported only when it runs).

``aa.standard`` is the standard version: APGD-CE, then APGD-T (targeted DLR, 9 targets),
then FAB-T (9 targets), then Square (5000 queries), each on the samples the earlier ones
left robust, with the official settings. bench runs the cascade itself, calling the
official attack objects in the official order, so that it can record per sample which
sub-attack broke it (``broken_by``: index into ``SUBATTACKS``, -1 for none); the worst case
over every attack of a run stays bench's own, per sample, and the pipeline still judges
success on the deployed model.

Two details of the package matter: its seed defaults to the clock, so bench always passes
its own; and its zero-gradient check reshapes with ``.view``, which fails on a
non-contiguous input, so inputs are made contiguous first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from bench.attacks.base import Attack, AttackParams, CraftingModel

if TYPE_CHECKING:
    from torch import Tensor

AA_NORMS = {"linf": "Linf", "l2": "L2"}
# The distribution every aa.* attack imports; `bench validate` says how to install it when it is missing.
REQUIRES = ("pyautoattack", "bench[autoattack]")
SUBATTACKS = ("apgd-ce", "apgd-t", "fab-t", "square")
"""The standard version's sub-attacks, in the order they run; ``broken_by`` indexes this."""
RAND_SUBATTACKS = ("apgd-ce", "apgd-dlr")
"""The version for randomized models (``rand``): APGD-CE, then APGD-DLR, each with EOT over 20 draws;
``broken_by_rand`` indexes this."""
# The official defaults: samples per batch, APGD/FAB iterations, Square's queries.
OFFICIAL_BATCH_SIZE, OFFICIAL_N_ITER, OFFICIAL_N_QUERIES, OFFICIAL_EOT_ITER = 250, 100, 5000, 20


def _autoattack(model: CraftingModel, eps: float, norm: str, seed: int, version: str = "standard", attacks: list[str] | None = None) -> Any:
    from pyautoattack import AutoAttack

    aa = AutoAttack(model.view, eps=eps, norm=AA_NORMS[norm], seed=seed, device=model.device, version=version, attacks=attacks)
    aa.verbose = False
    return aa


def run_subattack(aa: Any, name: str, x: Tensor, y: Tensor) -> Tensor:
    """One of AutoAttack's sub-attacks on (x, y), configured exactly as ``AutoAttack.run_standard_evaluation`` does."""
    x, y = x.contiguous(), y.contiguous()
    if name in ("apgd-ce", "apgd-dlr"):
        aa.apgd.loss = "ce" if name == "apgd-ce" else "dlr"
        aa.apgd.seed = aa.get_seed()
        return aa.apgd.perturb(x, y)
    if name == "apgd-t":
        aa.apgd_targeted.seed = aa.get_seed()
        return aa.apgd_targeted.perturb(x, y)
    if name == "fab-t":
        aa.fab.targeted = True
        aa.fab.n_restarts = 1
        aa.fab.seed = aa.get_seed()
        return aa.fab.perturb(x, y)
    if name == "square":
        aa.square.seed = aa.get_seed()
        return aa.square.perturb(x, y)
    raise ValueError(f"unknown AutoAttack sub-attack {name!r}")


class StandardParams(AttackParams):
    """None everywhere is the standard version; anything else is a cheaper variant, for tests only."""

    n_iter: int | None = Field(None, ge=1, description="Iterations of APGD-CE, APGD-T and FAB-T (standard: 100). Not standard if set.")
    n_queries: int | None = Field(None, ge=1, description="Square's query budget (standard: 5000). Not standard if set.")

    def cost(self) -> int:
        """Passes per sample and budget, if every sub-attack ran on every sample (most stop much earlier)."""
        n_iter = self.n_iter or OFFICIAL_N_ITER
        return n_iter + 9 * n_iter + 9 * n_iter + (self.n_queries or OFFICIAL_N_QUERIES) // 4


class AutoAttackStandard(Attack):
    """The official AutoAttack, standard version; records which sub-attack broke each sample."""

    norms = ("linf", "l2")
    default_tag = "adaptive"
    description = "AutoAttack standard (official pyautoattack 0.2.0): APGD-CE, APGD-T, FAB-T, Square; parameter-free"
    Params = StandardParams
    requires = REQUIRES
    default_batch_size = OFFICIAL_BATCH_SIZE
    version: ClassVar[str] = "standard"
    subattacks: ClassVar[tuple[str, ...]] = SUBATTACKS
    detail: ClassVar[str] = "broken_by"
    # Passes whose majority decides that a sub-attack broke a sample (more than one for a randomized model).
    votes: ClassVar[int] = 1

    def configure(self, aa: Any) -> None:
        """Apply the (test-only) reduced budgets to the official attack objects."""
        p = self.params
        if p.n_iter is not None:
            aa.apgd.n_iter = aa.apgd_targeted.n_iter = aa.fab.n_iter = p.n_iter
        if p.n_queries is not None:
            aa.square.n_queries = p.n_queries

    def generate(self, model: CraftingModel, x: Tensor, y: Tensor, eps: float | None) -> Tensor:
        import torch

        assert eps is not None
        x, y = x.contiguous(), y.contiguous()
        aa = _autoattack(model, eps, self.norm, self.seed, version=self.version)
        self.configure(aa)
        adv = x.clone()
        robust = ~self._broken(model, x, y)
        broken_by = torch.full((len(x),), -1, dtype=torch.int64)
        # As run_standard_evaluation does: the sub-attacks enable gradients where they take them, and every
        # other forward pass (Square's queries, the checks between steps) records no autograd graph.
        with torch.no_grad():
            for i, name in enumerate(self.subattacks):
                idx = robust.nonzero().flatten()
                if not len(idx):
                    break
                out = run_subattack(aa, name, x[idx], y[idx]).detach()
                hit = self._broken(model, out, y[idx])
                adv[idx[hit]] = out[hit]
                robust[idx[hit]] = False
                broken_by[idx[hit].cpu()] = i
        self.record(self.detail, broken_by)
        return adv

    def _broken(self, model: CraftingModel, x: Tensor, y: Tensor) -> Tensor:
        import torch

        with torch.no_grad():
            wrong = sum((model.view(x).argmax(1) != y).int() for _ in range(self.votes))
        return wrong * 2 > self.votes


class RandParams(AttackParams):
    """None everywhere is the official version for randomized models; anything else is a cheaper variant, for tests only."""

    n_iter: int | None = Field(None, ge=1, description="Iterations of APGD-CE and APGD-DLR (official: 100). Not official if set.")
    eot_iter: int | None = Field(None, ge=1, description="Draws averaged per gradient (official: 20). Not official if set.")

    def cost(self) -> int:
        """Passes per sample and budget, if both sub-attacks ran on every sample."""
        return 2 * (self.n_iter or OFFICIAL_N_ITER) * (self.eot_iter or OFFICIAL_EOT_ITER)


class AutoAttackRand(AutoAttackStandard):
    """The official AutoAttack for randomized defences (``version='rand'``): APGD-CE and APGD-DLR with EOT over 20 draws.

    The official ``run_standard_evaluation`` attacks the samples one pass classifies correctly and
    stops attacking a sample once one pass misclassifies it. On a randomized model one pass is one
    draw, so bench decides both by the majority of ``votes`` passes instead (the model is then judged
    by its own vote, ``eval_draws``). Records which sub-attack broke each sample (``broken_by_rand``).
    """

    description = "AutoAttack for randomized models (official pyautoattack 0.2.0, version='rand'): APGD-CE, APGD-DLR, EOT over 20 draws"
    Params = RandParams  # type: ignore[assignment]
    version = "rand"
    subattacks = RAND_SUBATTACKS
    detail = "broken_by_rand"
    votes = 11

    def configure(self, aa: Any) -> None:
        """Apply the (test-only) reduced budgets to the official attack objects."""
        if self.params.n_iter is not None:
            aa.apgd.n_iter = self.params.n_iter
        if self.params.eot_iter is not None:
            aa.apgd.eot_iter = self.params.eot_iter


class ApgdParams(AttackParams):
    """APGD (step-size free PGD); the official defaults of AutoAttack's standard version."""

    synonyms: ClassVar[dict[str, str]] = {"steps": "n_iter", "max_iter": "n_iter", "restarts": "n_restarts"}

    n_iter: int = Field(OFFICIAL_N_ITER, ge=1, description="Iterations per restart (official: 100).")
    n_restarts: int = Field(1, ge=1, description="Random restarts (official standard: 1).")

    def cost(self) -> int:
        """Passes per sample and budget."""
        return self.n_iter * self.n_restarts


class _AaSingle(Attack):
    """One AutoAttack sub-attack on its own, for suites that cannot afford the whole cascade."""

    norms = ("linf", "l2")
    default_tag = "adaptive"
    sub: ClassVar[str] = ""
    default_batch_size = OFFICIAL_BATCH_SIZE
    requires = REQUIRES

    def configure(self, aa: Any) -> None:
        """Apply the parameters to the official attack object."""

    def generate(self, model: CraftingModel, x: Tensor, y: Tensor, eps: float | None) -> Tensor:
        assert eps is not None
        aa = _autoattack(model, eps, self.norm, self.seed, version="custom", attacks=[self.sub])
        self.configure(aa)
        return run_subattack(aa, self.sub, x, y)


class _Apgd(_AaSingle):
    """AutoAttack's APGD on its own; a subclass names the loss (``sub``)."""

    Params = ApgdParams

    def configure(self, aa: Any) -> None:
        aa.apgd.n_iter, aa.apgd.n_restarts = self.params.n_iter, self.params.n_restarts


class ApgdCe(_Apgd):
    """AutoAttack's APGD on cross-entropy (untargeted)."""

    description = "APGD-CE (official AutoAttack code): step-size-free PGD on cross-entropy"
    default_tag = "naive"  # cross-entropy: its gradient vanishes on a saturated softmax like any CE attack's
    sub = "apgd-ce"


class ApgdDlr(_Apgd):
    """AutoAttack's APGD on the DLR loss (untargeted), invariant to the logits' scale."""

    description = "APGD-DLR (official AutoAttack code): step-size-free PGD on the scale-invariant DLR loss"
    sub = "apgd-dlr"


class AaSquareParams(AttackParams):
    """AutoAttack's Square Attack."""

    synonyms: ClassVar[dict[str, str]] = {"max_queries": "n_queries", "queries": "n_queries"}

    n_queries: int = Field(OFFICIAL_N_QUERIES, ge=1, description="Query budget per sample (official: 5000).")
    p_init: float = Field(0.8, gt=0, le=1, description="Initial fraction of pixels changed.")

    def cost(self) -> int:
        """Passes per sample and budget (most samples stop early)."""
        return self.n_queries // 4


class AaSquare(_AaSingle):
    """AutoAttack's Square Attack: gradient-free random search on the margin loss."""

    description = "Square Attack (official AutoAttack code), gradient-free"
    Params = AaSquareParams
    sub = "square"

    def configure(self, aa: Any) -> None:
        aa.square.n_queries, aa.square.p_init = self.params.n_queries, self.params.p_init
