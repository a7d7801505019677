"""The relevance model: a logistic regression over the relevance features, stored as a small JSON file.

``monitor train`` fits it (scikit-learn, at training time only); at run time the probability that a
candidate is a story about the watched subject is one dot product, so matching needs no training
library. Features are standardised with the training set's mean and scale, so each contribution
reads as "how far this document is from the average candidate, times the weight".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.query.features import NAMES

FORMAT = 1
DEFAULT_MODEL = "relevance-model.json"  # beside this module: fitted on the shared ceasefire sets


@dataclass(frozen=True, slots=True)
class RelevanceModel:
    """Weights and standardisation of each feature, and the intercept; ``info`` says how it was made."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float
    info: dict[str, Any] = field(default_factory=dict, compare=False)
    _folded: tuple[tuple[tuple[str, float], ...], float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """The standardisation folded into the weights, for probability's one dot product."""
        coefficients = tuple(w / s for w, s in zip(self.weights, self.scale, strict=True))
        offset = self.intercept - sum(c * m for c, m in zip(coefficients, self.mean, strict=True))
        object.__setattr__(self, "_folded", (tuple(zip(self.features, coefficients, strict=True)), offset))

    def contributions(self, values: dict[str, float]) -> list[tuple[str, float, float]]:
        """Per feature: its value and what it adds to the log-odds."""
        return [
            (name, values.get(name, 0.0), weight * (values.get(name, 0.0) - mean) / scale)
            for name, mean, scale, weight in zip(self.features, self.mean, self.scale, self.weights, strict=True)
        ]

    def probability(self, values: dict[str, float]) -> float:
        """The probability that a document with these feature values is a story about the subject."""
        pairs, offset = self._folded
        logit = offset + sum(c * values.get(name, 0.0) for name, c in pairs)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "weights": list(self.weights),
            "intercept": self.intercept,
            "info": self.info,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: Any, where: str) -> RelevanceModel:
        """A model from its JSON form; ConfigError naming ``where`` when it is not one this version reads."""
        try:
            if data["format"] != FORMAT:
                raise ConfigError(f"{where}: model format {data['format']!r}, this version reads {FORMAT}")
            names = tuple(str(n) for n in data["features"])
            mean, scale, weights = (tuple(float(v) for v in data[k]) for k in ("mean", "scale", "weights"))
            model = cls(names, mean, scale, weights, float(data["intercept"]), dict(data.get("info", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: not a relevance model file ({type(exc).__name__}: {exc})") from exc
        unknown = sorted(set(names) - set(NAMES))
        if unknown:
            raise ConfigError(f"{where}: unknown feature(s) {', '.join(unknown)} (a model fitted by another version"
                              f" of the monitor: fit it again with `monitor train`); known: {', '.join(NAMES)}")
        if not len(names) == len(model.mean) == len(model.scale) == len(model.weights) or 0.0 in model.scale:
            raise ConfigError(f"{where}: features, mean, scale and weights differ in length (or a scale is 0)")
        return model


def load_model(path: Path) -> RelevanceModel:
    """Read a model file (ConfigError with the path when it cannot be read or is not a model)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the relevance model: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    return RelevanceModel.from_json(data, str(path))


@cache
def default_model() -> RelevanceModel:
    """The shipped model (``monitor/query/relevance-model.json``), used by watch lists without their own."""
    text = resources.files("monitor.query").joinpath(DEFAULT_MODEL).read_text(encoding="utf-8")
    return RelevanceModel.from_json(json.loads(text), DEFAULT_MODEL)
