"""The words for several effects per study in the main analyses (review.yaml's ``dependence`` and ``robust``):
the Methods sentence that says which model, which correlation and which small-sample correction, and the
phrases of a result that count its effects, give its variance components and its robust test. All are
empty when every analysis is run as the paper ran it (one selected effect per study, model-based tests).
"""

from __future__ import annotations

from erh_report.analysis.dependent import Choice, DependentResult
from erh_report.numbers import NumberStyle
from erh_report.render import words
from erh_report.synthesis import AnalysisResult, ReviewResults
from erh_report.synthesis.dependent import choice_for
from erh_report.vocabulary import method

ROBUST = (
    "confidence intervals and P values were cluster-robust by study (CR2 small-sample correction, "
    "t tests with Satterthwaite degrees of freedom; prediction intervals used the same t distribution)"
)


def _model_phrase(dependence: str, style: NumberStyle, method_code: str, rule_text: str, rho: float) -> str:
    if dependence == "multilevel":
        return (
            "every effect in the window was used, in a three-level model of effects within studies "
            f"(random effects of studies and of effects within studies, estimated by {method(method_code).name}; "
            "heterogeneity is the sum of both variance components, I² the sum of the I² of both levels)"
        )
    if dependence == "aggregate":
        return (
            "every effect in the window was used, the effects of a study first aggregated into one (compound "
            f"symmetry, assumed within-study correlation, {style.number(rho, 2)}) and then pooled"
        )
    return f"one effect per study and analysis was chosen ({rule_text})"


MODEL_BASED = "confidence intervals and P values were model-based"


def _grouped(results: ReviewResults, key_of: dict, default, phrase, opening: str) -> str:
    """One sentence for the analyses with the review's setting (or the most analyses), then "For A and B,
    ..." for each other group."""
    groups: dict = {}
    for ar in results.analyses:
        groups.setdefault(key_of[ar.analysis.id], []).append(ar)
    main = default if default in groups else max(groups, key=lambda k: len(groups[k]))
    first = phrase(main)
    if opening:
        text = f"{opening}{first}."
    else:
        text = ("Unless named below, " + first if len(groups) > 1 else first[:1].upper() + first[1:]) + "."
    for key, members in groups.items():
        if key != main:
            text += f" For {words.join_and([_title(ar) for ar in members])}, {phrase(key)}."
    return text


def _title(ar: AnalysisResult) -> str:
    return f"{ar.analysis.outcome.lower()} ({ar.analysis.window.lower()})"


def methods_sentence(results: ReviewResults, style: NumberStyle, rule_text: str) -> str:
    """The Methods' sentences on several effects per study; "" when every analysis selects one effect per
    study with model-based tests (the template then says so in its own words)."""
    config = results.review.config
    choices = {ar.analysis.id: choice_for(config, ar.analysis) for ar in results.analyses}
    if all(c.usual for c in choices.values()):
        return ""
    code = config.settings.method
    s = config.settings
    model_of = {a: (c.dependence, c.rho if c.dependence == "aggregate" else None) for a, c in choices.items()}
    text = _grouped(
        results,
        model_of,
        (s.dependence, s.within_study_correlation if s.dependence == "aggregate" else None),
        lambda key: _model_phrase(key[0], style, code, rule_text, key[1] or 0.0),
        "When a study reported an outcome with several instruments or at several times within a time window, ",
    )
    robust_of = {a: c.robust for a, c in choices.items()}
    if any(robust_of.values()):
        text += " " + _grouped(results, robust_of, s.robust, lambda on: ROBUST if on else MODEL_BASED, "")
    used = {c.dependence for c in choices.values()}
    follow = []
    if "multilevel" in used:
        follow.append("the selected effect of each study where the main model was the three-level model")
    if "aggregate" in used:
        follow.append("the aggregated effects where the main analysis aggregated them")
    if follow:
        text += (
            " Subgroup analyses, meta-regression, leave-one-out analyses and small-study tests used one effect "
            f"per study ({'; '.join(follow)}); the analysis excluding studies at high risk of bias refitted the "
            "main model."
        )
    return text + (
        " As a sensitivity analysis, each analysis was also run with one selected effect per study, with every "
        "effect aggregated within studies and in the three-level model (supplement)."
    )


def result_phrases(ar: AnalysisResult, style: NumberStyle) -> dict[str, str]:
    """For the Results paragraph of one analysis: ``effects_phrase`` ("39 effects; "), ``sigma2_phrase``
    (the variance components, in place of τ²) and ``test_phrase`` (the robust test's df)."""
    res = ar.result
    out = {"effects_phrase": "", "sigma2_phrase": "", "test_phrase": ""}
    if not isinstance(res, DependentResult):
        return out
    if res.multilevel:
        out["effects_phrase"] = (
            f"{style.integer(res.k_effects)} {words.count_word(res.k_effects, 'effect', 'effects')}; "
        )
    elif res.choice.dependence == "aggregate" and res.k_effects > res.k_studies:
        out["effects_phrase"] = f"{style.integer(res.k_effects)} effects aggregated; "
    if res.sigma2 is not None:
        between, within = res.sigma2
        out["sigma2_phrase"] = f"σ² between studies = {style.tau2(between)}, within studies = {style.tau2(within)}"
    if res.robust is not None and res.df is not None:
        out["test_phrase"] = f" (cluster-robust, {style.number(res.df, 1)} df)"
    return out


def _short(choice: Choice, method_code: str, style: NumberStyle) -> str:
    model = {
        "multilevel": f"three-level model of every effect ({method_code})",
        "aggregate": f"every effect aggregated within studies (correlation {style.number(choice.rho, 2)})",
        "select": "one selected effect per study",
    }[choice.dependence]
    return model + ("; cluster-robust CR2 tests (Satterthwaite df)" if choice.robust else "")


def supplement_phrases(results: ReviewResults, style: NumberStyle) -> dict[str, str]:
    """The supplement's words when some main analysis is not the paper's: the eMethods row of the main
    analyses' model (``dependence_main``) and what the follow-up tables used (``follow_up_caption``); both
    "" otherwise."""
    config = results.review.config
    choices = {ar.analysis.id: choice_for(config, ar.analysis) for ar in results.analyses}
    if all(c.usual for c in choices.values()):
        return {"dependence_main": "", "follow_up_caption": ""}
    groups: dict[Choice, list[AnalysisResult]] = {}
    for ar in results.analyses:
        groups.setdefault(choices[ar.analysis.id], []).append(ar)
    parts = [
        ("" if len(groups) == 1 else f"{words.join_and([_title(ar) for ar in members])}: ")
        + _short(choice, config.settings.method, style)
        for choice, members in groups.items()
    ]
    used = {c.dependence for c in choices.values()}
    which = {
        frozenset({"multilevel"}): "the selected effect of each study, the main model being the three-level model",
        frozenset({"aggregate"}): "each study's effects aggregated, as in the main analysis",
    }.get(frozenset(used - {"select"}), "the aggregated or, under a three-level main model, the selected effect")
    caption = f". One effect per study ({which})" if used - {"select"} else ""
    return {"dependence_main": "; ".join(parts), "follow_up_caption": caption}
