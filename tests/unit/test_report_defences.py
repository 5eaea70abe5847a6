"""The defences section (bench.reporting.report.defences): the reason each verdict gives."""

from __future__ import annotations

import pandas as pd


def test_a_reliable_models_reason_counts_its_warnings_and_does_not_tell_their_story():
    from bench.reporting.report.defences import verdict_reasons

    def flag(check, category, verdict, message, attack=""):
        return {"model": "m", "attack": attack, "check": check, "category": category, "verdict": verdict, "message": message}

    flags = pd.DataFrame(
        [
            flag("gradient-masking", "verdict", "pass", "no masking check failed"),
            flag("naive-adaptive-gap", "masking", "pass", "naive 0.0%, adaptive 0.0%"),
            flag("unbounded-incomplete", "sanity", "warn", "ta-cw succeeds on 21.0% with no budget", "ta-cw"),
        ]
    )
    reason = verdict_reasons(flags).set_index("model").loc["m", "reason"]
    assert reason == "no check failed; naive 0.0%, adaptive 0.0%; 1 warning(s): unbounded-incomplete"
    failing = pd.concat([flags, pd.DataFrame([flag("zero-gradients", "masking", "fail", "96% zero")])], ignore_index=True)
    assert verdict_reasons(failing).set_index("model").loc["m", "reason"] == "zero-gradients: 96% zero"
