"""Quality control: whether what the enrichers found is fit to go on air. Pure rules.

An asset may become `ready` only when every enricher of its collection succeeded and every rule
here passed. The tail-decode rule exists because probing is not enough: a truncated MKV probes
fine (with its full duration) and plays to a black screen; decoding its last seconds fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RuleFailure:
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class QcReport:
    failures: tuple[RuleFailure, ...] = ()
    warnings: tuple[RuleFailure, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failures": [{"rule": f.rule, "reason": f.reason} for f in self.failures],
            "warnings": [{"rule": w.rule, "reason": w.reason} for w in self.warnings],
        }


@dataclass(frozen=True, slots=True)
class TailCheck:
    """What decoding the last seconds of the file said (`ok` False with the decoder's words)."""

    ok: bool
    detail: str = ""


def check(
    technical: dict[str, Any] | None,
    tail: TailCheck | None,
    *,
    audio_only: bool = False,
    reported_duration: float | None = None,
    unreachable: str | None = None,
) -> QcReport:
    """The QC rules, each failure with its reason. `technical` is None when probing failed or no
    technical enricher ran; `tail` is None when the tail was not checked. `reported_duration` is
    what a media server says the item lasts (compared with the probe: a warning), and
    `unreachable` why a media server's file could not be reached when it was cataloged (such an
    asset was never looked at here, so it cannot pass)."""
    failures: list[RuleFailure] = []
    if unreachable:
        failures.append(RuleFailure("reachable", unreachable))
    if technical is None:
        return QcReport((*failures, RuleFailure("probe", "the file could not be probed")))
    duration = technical.get("duration")
    if not isinstance(duration, int | float) or duration <= 0:
        failures.append(RuleFailure("duration", f"duration is {duration!r}, not above zero"))
    kinds = {s.get("type") for s in technical.get("streams") or []}
    wanted = "audio" if audio_only else "video"
    if wanted not in kinds:
        failures.append(RuleFailure(f"{wanted}_stream", f"no {wanted} stream"))
    if tail is None:
        failures.append(RuleFailure("tail_decodes", "the end of the file was not checked"))
    elif not tail.ok:
        failures.append(
            RuleFailure("tail_decodes", f"the last seconds do not decode: {tail.detail}".strip())
        )
    probed = duration if isinstance(duration, int | float) else None
    warning = duration_warning(probed, reported_duration)
    return QcReport(tuple(failures), (warning,) if warning is not None else ())


def duration_warning(probed: float | None, reported: float | None) -> RuleFailure | None:
    """A media server's duration that disagrees with the probe by more than 2 % is worth a look,
    not a refusal."""
    if not probed or not reported:
        return None
    if abs(probed - reported) / max(probed, reported) <= 0.02:
        return None
    return RuleFailure(
        "duration_agrees",
        f"probed {probed:.1f} s, the media server says {reported:.1f} s",
    )
