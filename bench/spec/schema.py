"""The suite spec's vocabulary: frozen, validated pydantic models (a leaf: pydantic only).

Every model rejects unknown keys with a did-you-mean hint. Loading YAML,
overrides, cross-checks against the registries and sweep expansion live in
``bench.spec.load``; this module only says what a valid suite looks like.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_serializer, model_validator
from pydantic_core import PydanticCustomError

from bench.registry import did_you_mean

# No "." (shard names are "<model>__<attack>.<key>.csv") and no "__" (the separator).
SAFE_ID = re.compile(r"^(?!.*__)[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
Norm = Literal["linf", "l2", "l0"]
# A number or a fraction of two numbers, as papers write budgets: 8/255, 0.5/255, 1e-2.
_NUMBER = r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*"
_FRACTION = re.compile(rf"^(?P<num>{_NUMBER})(?:/(?P<den>{_NUMBER}))?$")


def parse_fraction(value: Any) -> float:
    """``8/255`` -> 0.0313..., ``"0.3"`` -> 0.3, 0.3 -> 0.3; anything else raises ``ValueError``.

    A regular expression and two ``float`` calls, never ``eval``: a spec is data.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        return float(value)
    m = _FRACTION.match(value) if isinstance(value, str) else None
    if m is None:
        raise ValueError(f"{value!r} is not a number or a fraction like 8/255")
    num = float(m["num"])
    if m["den"] is None:
        return num
    den = float(m["den"])
    if den == 0:
        raise ValueError(f"{value!r} divides by zero")
    return num / den


def budget(value: Any) -> float:
    """``parse_fraction`` for a validator: a budget that is no number is a spec error that names it."""
    try:
        return parse_fraction(value)
    except ValueError as exc:
        raise PydanticCustomError("eps", "{why}", {"why": str(exc)}) from None


Budget = Annotated[float, BeforeValidator(budget)]
"""A budget field: a number, or a fraction as papers write budgets (8/255)."""


class StrictModel(BaseModel):
    """Frozen, rejects unknown keys with a did-you-mean hint."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    # Names users reach for that mean one of this model's fields (``confidence`` for C&W's ``kappa``).
    synonyms: ClassVar[dict[str, str]] = {}
    # Whether an unknown-field error lists every valid name (attack params: there is no other place to look them up).
    list_fields: ClassVar[bool] = False
    # Fields added after suites were recorded, with the default that keeps the old behaviour: left out of the
    # dump while they hold it, so that existing suites keep their spec hash and their cache keys.
    added_later: ClassVar[dict[str, Any]] = {}

    @model_serializer(mode="wrap")
    def _drop_added_defaults(self, handler: Any) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name, default in self.added_later.items():
                if name in data and data[name] == default:
                    data.pop(name)
        return data

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key not in cls.model_fields:
                    raise PydanticCustomError("unknown_field", "unknown field{hint}", {"field": str(key), "hint": cls._hint(str(key))})
        return data

    @classmethod
    def _hint(cls, key: str) -> str:
        known = list(cls.model_fields)
        hint = f"; did you mean '{cls.synonyms[key]}'?" if key in cls.synonyms else did_you_mean(key, known)
        if cls.list_fields:
            hint += f" (valid: {', '.join(known) if known else 'none, it takes no params'})"
        return hint


class DatasetSpec(StrictModel):
    """Which data to use and how much of it."""

    name: str = Field(description="Dataset key, see `bench ls datasets`.")
    root: str | None = Field(None, description="Folder holding the data; see docs/data.md for the search order.")
    path: str | None = Field(None, description="The data file, for a dataset that reads one (`arrays`: an .npz), relative to the suite.")
    train_size: int | None = Field(None, ge=1, description="Training subset size (default: all).")
    eval_size: int = Field(500, ge=1, description="Number of test samples to evaluate and attack.")


class AugmentSpec(StrictModel):
    """Seeded, deterministic training-time augmentation (the standard CIFAR recipe is crop_padding 4, flip)."""

    crop_padding: int = Field(0, ge=0, description="Random crop of the original size from the image zero-padded by this many pixels.")
    flip: bool = Field(False, description="Random horizontal flip with probability 1/2.")


class AdversarialSpec(StrictModel):
    """Adversarial training: every mini-batch is replaced by adversarial examples crafted on the model being trained.

    The training attack always runs on the model in eval mode (dropout off, so it attacks the
    function the evaluation attacks), with its weights' gradients off; the update step then runs
    in train mode. Its random starts draw from a generator seeded by the model's seed.
    """

    method: Literal["fgsm-rs", "pgd"] = Field(
        "fgsm-rs", description="fgsm-rs: one signed step from a uniform random start (Wong et al. 2020); pgd: Madry et al. 2018."
    )
    eps: Budget = Field(gt=0, description="Training budget on the [0, 1] input scale (a fraction like 8/255 works).")
    norm: Literal["linf", "l2"] = Field("linf", description="Threat model of the training attack.")
    steps: int = Field(10, ge=1, description="PGD steps (fgsm-rs: always one).")
    step_size: float | None = Field(
        None, gt=0, description="Step length; default 1.25*eps for fgsm-rs (Wong et al.), 2.5*eps/steps for pgd (Madry et al.)."
    )
    random_start: bool = Field(True, description="PGD: start from a uniform point of the eps-ball (fgsm-rs always does).")
    clean_weight: float = Field(
        0.0, ge=0, le=1, description="Loss = (1-w) * adversarial loss + w * clean loss; 0 trains on adversarial inputs only."
    )

    @model_validator(mode="after")
    def _one_step(self) -> AdversarialSpec:
        # fgsm-rs is defined by its single step from a random start; a setting it would ignore is a mistake.
        if self.method == "fgsm-rs":
            ignored = sorted({"steps", "random_start"} & self.model_fields_set)
            if ignored:
                why = "fgsm-rs takes one step from a random start; {names} applies to method: pgd"
                raise PydanticCustomError("fgsm_rs", why, {"names": " and ".join(ignored)})
        return self

    @property
    def n_steps(self) -> int:
        """Attack steps per mini-batch."""
        return 1 if self.method == "fgsm-rs" else self.steps

    @property
    def alpha(self) -> float:
        """The step length actually used."""
        if self.step_size is not None:
            return self.step_size
        return 1.25 * self.eps if self.method == "fgsm-rs" else 2.5 * self.eps / self.steps

    def cost(self) -> float:
        """Forward-backward passes per training step, relative to plain training (attack steps + update, + clean pass)."""
        return 1.0 + self.n_steps + (0.5 if self.clean_weight > 0 else 0.0)

    def describe(self) -> str:
        """``fgsm-rs linf eps 0.3`` or ``pgd-40 linf eps 0.3``, for progress bars and reports."""
        name = "fgsm-rs" if self.method == "fgsm-rs" else f"pgd-{self.steps}"
        return f"{name} {self.norm} eps {self.eps:g}"


class TrainSpec(StrictModel):
    """How a model is trained. Everything here goes into the checkpoint's cache key."""

    epochs: int = Field(3, ge=1, description="Passes over the training set.")
    batch_size: int = Field(128, ge=1, description="Mini-batch size.")
    optimizer: Literal["adam", "sgd"] = Field("adam", description="Adam trains at T=100; plain SGD does not.")
    lr: float = Field(1e-3, gt=0, description="Peak learning rate.")
    momentum: float = Field(0.9, ge=0, lt=1, description="SGD momentum (ignored by Adam).")
    schedule: Literal["cosine", "cyclic", "constant"] = Field(
        "cosine", description="Learning-rate schedule over all steps; cyclic: 0 up to lr at 40% of the steps, then down to 0 (Wong et al.)."
    )
    temperature: float = Field(1.0, gt=0, description="Softmax temperature used in training (teacher/student).")
    augment: AugmentSpec | None = Field(None, description="Training-time augmentation (none by default).")
    adversarial: AdversarialSpec | None = Field(None, description="Adversarial training (a baseline only); none by default.")
    precision: Literal["fp32", "bf16"] = Field(
        "fp32",
        description="Training arithmetic: fp32, or bf16 mixed precision (each training step's forward passes autocast to "
        "bfloat16, adversarial training's own attack included; weights, optimizer and checkpoint stay fp32; the run's "
        "evaluation and attacks run in fp32). bf16 is faster on CPUs with AMX and on GPUs, slower where it is emulated. "
        "Part of the model's key.",
    )

    added_later: ClassVar[dict[str, Any]] = {"precision": "fp32"}

    def canonical(self) -> dict[str, Any]:
        """The parameters as keys hash them; ``augment``, ``adversarial`` and a non-fp32 ``precision`` only when set, so keys
        from before them still hold."""
        unset = {name for name in ("augment", "adversarial") if getattr(self, name) is None}
        data = self.model_dump(mode="json", exclude=unset)
        if self.adversarial is not None:
            # Resolved, so `step_size: 0.375` and the default that equals it are one model.
            resolved = {"step_size": self.adversarial.alpha, "steps": self.adversarial.n_steps}
            data["adversarial"] = self.adversarial.model_dump(mode="json") | resolved
        return data


class BitDepthStep(StrictModel):
    """Feature squeezing (Xu et al. 2018): round every input value to ``bits`` bits. Shatters gradients: rounding has none."""

    name: Literal["bit-depth"] = Field(description="The step: `bit-depth`.")
    bits: int = Field(ge=1, le=8, description="Bits per value kept; 1 binarises at 0.5.")


class MedianStep(StrictModel):
    """Median smoothing (Xu et al. 2018): each value becomes the median of its size x size window, per channel."""

    name: Literal["median"] = Field(description="The step: `median`.")
    size: int = Field(2, ge=2, le=9, description="Window side in pixels (Xu et al.: 2 on MNIST).")


class JpegStep(StrictModel):
    """A real JPEG round trip through an image library (Guo et al. 2018), which autograd cannot follow."""

    name: Literal["jpeg"] = Field(description="The step: `jpeg`.")
    quality: int = Field(75, ge=1, le=95, description="JPEG quality, 1 (worst) to 95 (Guo et al.: 75).")


class GaussianNoiseStep(StrictModel):
    """Fresh Gaussian noise on every forward pass: a randomized defence (stochastic gradients)."""

    name: Literal["gaussian-noise"] = Field(description="The step: `gaussian-noise`.")
    sigma: float = Field(gt=0, le=1, description="Standard deviation of the noise, on the [0, 1] input scale.")


class RandomResizePadStep(StrictModel):
    """Xie et al. 2018: resize to a random size, then zero-pad at a random offset back to the input size (fresh per pass)."""

    name: Literal["random-resize-pad"] = Field(description="The step: `random-resize-pad`.")
    min_scale: float = Field(0.8, gt=0, lt=1, description="Smallest side kept, as a fraction of the input's; the largest is the input's.")


DefenceStep = Annotated[
    BitDepthStep | MedianStep | JpegStep | GaussianNoiseStep | RandomResizePadStep,
    Field(discriminator="name"),
]
DEFENCE_STEPS: dict[str, type[StrictModel]] = {
    "bit-depth": BitDepthStep,
    "median": MedianStep,
    "jpeg": JpegStep,
    "gaussian-noise": GaussianNoiseStep,
    "random-resize-pad": RandomResizePadStep,
}
"""Every defence step by name: a step's ``name`` literal, the key of ``bench.pipeline.models.defences``' implementations."""
RANDOMIZED_STEPS = ("gaussian-noise", "random-resize-pad")
"""Steps that draw fresh randomness on every pass: a model with one is judged by majority vote (``eval_draws``)."""


class ClaimedSpec(StrictModel):
    """What a defence's own paper reports for it: shown beside bench's measured number, never used to compute anything."""

    robust_accuracy: float = Field(ge=0, le=1, description="The claimed robust accuracy, a fraction in [0, 1] (0.89 for 89%).")
    norm: Norm = Field(description="The threat model of the claim (`linf`, `l2`, `l0`).")
    eps: Budget = Field(ge=0, description="The budget of the claim on the [0, 1] input scale (a fraction like 8/255 works).")
    source: str = Field(description="Where the claim comes from: a citation or a URL.")


class ModelSpec(StrictModel):
    """A model to train (or load) and evaluate."""

    id: str = Field(description="Unique, file-name-safe id, e.g. `baseline`.")
    kind: Literal["baseline", "teacher", "student", "external"] = Field(
        description="How it is trained; `external`: a program file (`checkpoint`), evaluated, never trained."
    )
    arch: str | None = Field(None, description="Architecture key, see `bench ls architectures` (none for `external`).")
    teacher: str | None = Field(None, description="For a student: the id of its teacher.")
    train: TrainSpec = Field(default_factory=TrainSpec, description="Training parameters.")
    checkpoint: str | None = Field(
        None,
        description="Load a state dict from this file instead of training; for `external`, a .pt2 (torch.export) or .pt (TorchScript).",
    )
    evaluate: bool = Field(True, description="Attack this model (teachers usually are not).")
    seed: int | None = Field(None, ge=0, description="Seed for this model's training and attacks (default: the suite's).")
    defence: list[DefenceStep] = Field(
        default_factory=list,
        description="Input transformations applied in order before the network at inference (docs/obfuscated.md); "
        "the network is the undefended model's, never retrained for it.",
    )
    eval_draws: int = Field(
        1, ge=1, description="Passes per prediction of a randomized model: clean accuracy and success use their majority vote."
    )

    claimed: ClaimedSpec | None = Field(
        None,
        description="What the defence's paper reports (robust accuracy, norm, eps, source): shown next to the measured "
        "number in the report and the leaderboard; changes no computation, no spec hash and no cache key.",
    )

    added_later: ClassVar[dict[str, Any]] = {"defence": [], "eval_draws": 1, "claimed": None}
    # Fields that describe the model without determining any result: left out of every hash and key, even when set.
    descriptive: ClassVar[frozenset[str]] = frozenset({"claimed"})

    def key_dump(self) -> dict[str, Any]:
        """The spec as hashes and task keys see it: its JSON dump without the ``descriptive`` fields."""
        return self.model_dump(mode="json", exclude=set(self.descriptive))

    def defence_json(self) -> str:
        """The defence as canonical JSON (``""`` for none): what keys and model references carry."""
        if not self.defence:
            return ""
        return json.dumps([step.model_dump(mode="json") for step in self.defence], sort_keys=True, separators=(",", ":"))

    def describe_defence(self) -> str:
        """``bit-depth(bits=3) -> jpeg(quality=75)``, ``+ majority vote of 11 draws``; ``""`` for an undefended model."""
        steps: list[str] = []
        for step in self.defence:
            args = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in step.model_dump().items() if k != "name")
            steps.append(f"{step.name}({args})")
        text = " -> ".join(steps)
        if self.eval_draws > 1:
            text += ("; " if text else "") + f"majority vote of {self.eval_draws} draws"
        return text


class ViewSpec(StrictModel):
    """What an adaptive attack differentiates: logits/T, BPDA through a defence's steps, EOT over its randomness.

    The three combine: `{bpda: true, eot: 10, divide_logits_by: 100}` averages ten draws of the
    network's logits on the BPDA-processed input, divided by 100. See docs/obfuscated.md.
    """

    divide_logits_by: float | None = Field(None, gt=0, description="The T in logits/T (Carlini's fix).")
    bpda: bool = Field(False, description="Run each defence step forward and pass gradients straight through it backward.")
    eot: int | None = Field(
        None, ge=2, description="Average the attacked output (so each gradient) over this many draws of the model's randomness."
    )

    added_later: ClassVar[dict[str, Any]] = {"divide_logits_by": None, "bpda": False, "eot": None}

    @model_validator(mode="after")
    def _something(self) -> ViewSpec:
        if self.divide_logits_by is None and not self.bpda and self.eot is None:
            raise PydanticCustomError("empty_view", "a view mapping needs divide_logits_by, bpda: true or eot")
        return self

    @property
    def adaptive(self) -> bool:
        """BPDA or EOT: an attack through this view is adaptive unless its spec says otherwise."""
        return self.bpda or self.eot is not None


class AttackSpec(StrictModel):
    """One attack, run on every evaluated model (or on `models`)."""

    id: str = Field(description="Unique, file-name-safe id.")
    use: str = Field(description="Registry key `backend.name`, see `bench ls attacks`.")
    params: dict[str, Any] = Field(default_factory=dict, description="Attack-specific parameters.")
    norm: Norm | None = Field(None, description="Threat model; defaults to the attack's own.")
    eps: list[float] = Field(
        default_factory=list, description="Budgets, sorted: numbers or fractions like 8/255; min-norm attacks may omit them."
    )
    view: Literal["logits", "probs"] | ViewSpec = Field("logits", description="What the attack differentiates.")
    tag: Literal["naive", "adaptive", "transfer"] | None = Field(
        None, description="naive or adaptive; defaults to the attack's own tag, or 'transfer' when `source` is set."
    )
    models: list[str] | None = Field(None, min_length=1, description="Model ids to attack (default: every evaluated model).")
    source: str | None = Field(None, description="Transfer: craft on this model, evaluate on the target.")
    n_samples: int | None = Field(None, ge=1, description="Attack only the first n evaluation samples.")
    batch_size: int | None = Field(None, ge=1, description="Samples per attack batch (default: the attack's own, `bench ls attacks`).")

    @field_validator("eps", mode="before")
    @classmethod
    def _budgets(cls, value: Any) -> Any:
        # `eps: 0.3` means one budget, and papers write budgets as 8/255: accept both.
        items = value if isinstance(value, list | tuple) else [value]
        return [budget(v) for v in items]


class ExecutorSpec(StrictModel):
    """Where a run's cells execute; changes no result, so it is not part of the spec hash."""

    kind: Literal["local", "dask", "slurm"] = Field(
        "local", description="local: one after another in this process; dask: on Dask workers; slurm: on Dask workers run as Slurm jobs."
    )
    workers: int | None = Field(None, ge=1, description="Dask: start a LocalCluster on 127.0.0.1 with this many worker processes.")
    threads_per_worker: int | None = Field(None, ge=1, description="Dask and Slurm: cells each worker runs at once (default 1).")
    scheduler: str | None = Field(None, description="Dask: address of a running scheduler, e.g. tcp://host:8786.")
    torch_threads: int | None = Field(
        None, ge=1, description="Dask and Slurm: torch threads per cell (default: the worker's share of its cores)."
    )
    jobs: int | None = Field(None, ge=1, description="Slurm: how many worker jobs to submit (default 1); each runs one Dask worker.")
    cores_per_job: int | None = Field(None, ge=1, description="Slurm: CPUs per job, `#SBATCH --cpus-per-task` (default 1).")
    memory_per_job: str | None = Field(None, description="Slurm: memory per job, e.g. 4GB (`#SBATCH --mem`; default 2GB).")
    walltime: str | None = Field(
        None, description="Slurm: time limit per job, [D-]HH:MM:SS or MM:SS (`#SBATCH -t`; default: the partition's limit)."
    )
    partition: str | None = Field(None, description="Slurm: the partition to submit to (`#SBATCH -p`; default: the cluster's default).")
    account: str | None = Field(None, description="Slurm: the account to charge (`#SBATCH -A`).")
    sbatch: list[str] = Field(
        default_factory=list, description="Slurm: extra `#SBATCH` directives, without the prefix, e.g. `--qos=short`."
    )
    gpus_per_job: int | None = Field(
        None, ge=1, description="Slurm: GPUs per job (`#SBATCH --gpus`); the job's worker offers them as the Dask resource GPU."
    )


class SuiteSpec(StrictModel):
    """A whole benchmark suite."""

    name: str = Field(description="Suite name, used in titles and the run folder name.")
    seed: int = Field(0, ge=0, description="Seed for data subsets, training and attacks.")
    dataset: DatasetSpec = Field(description="The data set every model is trained and attacked on.")
    models: list[ModelSpec] = Field(
        min_length=1, description="The models to train or load, in any order: a teacher is obtained before its students."
    )
    attacks: list[AttackSpec] = Field(
        default_factory=list, description="The attacks to run on the models (each on every model unless it names some)."
    )
    temperatures: list[float] | None = Field(None, min_length=1, description="Sweep: one teacher/student pair per T (ids <id>-t<T>).")
    seeds: list[int] | None = Field(None, min_length=1, description="Sweep: every model and attack once per seed (ids <id>-s<seed>).")
    strict: bool = Field(False, description="`bench run` exits 1 when any check fails (as --strict); does not change the results.")
    plugins: list[str] = Field(
        default_factory=list, description="Modules to import first (trusted code, like conftest.py) that register plug-ins."
    )
    executor: ExecutorSpec | None = Field(None, description="Default executor for `bench run` (its flags and $BENCH_EXECUTOR win).")

    def model(self, model_id: str) -> ModelSpec:
        """The model spec with this id."""
        return next(m for m in self.models if m.id == model_id)

    def spec_hash(self) -> str:
        """sha256 of the canonical JSON of the resolved spec, without machine-specific paths.

        Data are identified by their fingerprint and checkpoint files by the sha256 of
        their contents (their name when they do not exist yet), so the same suite hashes
        alike on every machine and two different ``mine.pt`` do not. Fields added later
        count only when set, so existing suites keep their hash. Where it runs
        (``executor``) and what a model's paper claims (``claimed``) are not part of what it computes.
        """
        # `strict` only decides the exit code, so a strict and a lenient run of one suite are the same run.
        data = self.model_dump(mode="json", exclude={"dataset": {"root", "path"}, "strict": True, "executor": True})
        if not data["plugins"]:
            del data["plugins"]
        for m, spec in zip(data["models"], self.models, strict=True):
            for name in spec.descriptive:
                m.pop(name, None)
            m["checkpoint"] = file_sha256(m["checkpoint"]) if m["checkpoint"] else None
            m["train"] = spec.train.canonical()
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def file_sha256(path: str) -> str:
    """sha256 of a file's contents, or its name when it cannot be read (a spec validated before the file exists)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return Path(path).name
    return h.hexdigest()


def view_name(view: str | ViewSpec) -> str:
    """The name recorded in result rows: ``logits``, ``probs``, ``logits/100``, ``bpda``, ``eot10``, ``bpda+eot10+logits/100``."""
    if isinstance(view, ViewSpec):
        parts = ["bpda"] if view.bpda else []
        parts += [f"eot{view.eot}"] if view.eot is not None else []
        parts += [f"logits/{view.divide_logits_by:g}"] if view.divide_logits_by is not None else []
        return "+".join(parts)
    return view


# The id scheme of sweep copies: one home, read by the sweep that writes ids and by the results that group them.
_SEED_SUFFIX = re.compile(r"^(?P<base>.+)-s(?P<seed>\d+)$")


def seed_id(base: str, seed: int | str) -> str:
    """The id of ``base``'s copy for one seed: ``distilled`` -> ``distilled-s1``."""
    return f"{base}-s{seed}"


def split_seed(item_id: str) -> tuple[str, str | None]:
    """The inverse of ``seed_id``: ``distilled-s1`` -> (``distilled``, ``1``); other ids -> (id, None)."""
    m = _SEED_SUFFIX.match(item_id)
    return (m["base"], m["seed"]) if m else (item_id, None)


def temperature_id(base: str, t: float) -> str:
    """The id of ``base``'s copy for one temperature: ``distilled`` at 0.5 -> ``distilled-t0p5``."""
    return f"{base}-t{t:g}".replace(".", "p")


_TEMPERATURE_SUFFIX = re.compile(r"^(?P<base>.+)-t(?P<t>[0-9][0-9p]*(?:e[+-]?[0-9]+)?)$")


def split_temperature(item_id: str) -> tuple[str, float] | None:
    """The inverse of ``temperature_id``: ``distilled-t0p5`` -> (``distilled``, 0.5); None for other ids."""
    m = _TEMPERATURE_SUFFIX.match(item_id)
    if not m:
        return None
    try:
        return m["base"], float(m["t"].replace("p", "."))
    except ValueError:
        return None
