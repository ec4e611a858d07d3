"""The markdown report and ROC plot written beside OUT.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: the evaluation runs on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402


def plot_roc(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, (probs, labels) in curves.items():
        # Mismatch is the alarm: FPR = genuine matches flagged, TPR = mismatches caught.
        fpr, tpr, _ = roc_curve(1 - labels, -probs)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("false-alarm rate (matches flagged)")
    ax.set_ylabel("detection rate (mismatches flagged)")
    ax.set_title("photo vs x-ray verification")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render_report(result: dict[str, Any], *, roc_png: str, command: str) -> str:
    methods = result["methods"]
    lines = [
        "# Encoder evaluation",
        "",
        f"Held-out synthetic split: n = {result['n']}, seed {result['seed']} (never used in training); "
        f"labelled x-ray gallery: n = {result['gallery_n']}, seed {result['gallery_seed']}.",
        "",
        f"Reproduce: `{command}`",
        "",
        "| method | ROC-AUC | TPR@1% FPR | TPR@5% FPR | ECE | recall@1 | recall@5 | x-ray NN category acc |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, m in methods.items():
        lines.append(
            f"| {name} | {m['roc_auc']:.4f} | {m['tpr_at_fpr_1pct']:.4f} | {m['tpr_at_fpr_5pct']:.4f} | "
            f"{m['ece']:.4f} | {m['recall_at_1']:.4f} | {m['recall_at_5']:.4f} | "
            f"{m['xray_nn_category']['top1_accuracy']:.4f} |"
        )
    scenarios = sorted(next(iter(methods.values()))["per_scenario"])
    lines += [
        "",
        "## Per scenario (ROC-AUC against genuine matches / detection rate at 5% false alarms)",
        "",
        "| method | " + " | ".join(scenarios) + " |",
        "|---|" + "---|" * len(scenarios),
    ]
    for name, m in methods.items():
        cells = []
        for s in scenarios:
            cell = m["per_scenario"][s]
            auc = "-" if cell["roc_auc"] is None else f"{cell['roc_auc']:.3f}"
            cells.append(f"{auc} / {cell['detection_rate']:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    findings = methods.get("trained", {}).get("xray_findings")
    if findings:
        lines += [
            "",
            "## X-ray findings of `trained` (items of concern read off the x-ray embedding)",
            "",
            "| item | ROC-AUC | detection rate | false-alarm rate | threshold | x-rays holding it |",
            "|---|---|---|---|---|---|",
        ]
        for item, f in findings.items():
            detected = "-" if f["detection_rate"] is None else f"{f['detection_rate']:.3f}"
            auc = "-" if f["roc_auc"] is None else f"{f['roc_auc']:.4f}"
            lines.append(
                f"| {item} | {auc} | {detected} | {f['false_alarm_rate']:.3f} | {f['threshold']:.4f} | {f['n']} |"
            )
        alarmed = methods["trained"].get("xray_findings_false_alarmed")
        if alarmed:
            lines += [
                "",
                f"{alarmed['n']} of {alarmed['of']} x-rays alarm for some item they do not hold "
                "(a verdict with such a finding is a mismatch).",
            ]
    lines += [
        "",
        f"![ROC]({roc_png})",
        "",
        "## Definitions",
        "",
        "- Scores are P(match). `trained` uses the calibration shipped in its artifact (fitted on its",
        "  validation split); the baselines, which have none, get 5-fold cross-fitted Platt scaling.",
        "- TPR@x% FPR: share of mismatches flagged when x% of genuine matches are flagged.",
        "- Per-scenario detection rate: share flagged at the threshold giving 5% false alarms overall;",
        "  for `match` it is that false-alarm rate.",
        "- ECE: 10 equal-width bins of P(match).",
        "- recall@k: each match shipment's photo queries all x-rays of the split; hit if its own x-ray",
        "  ranks in the top k.",
        "- x-ray NN category accuracy: each x-ray whose main content is a gallery category queries a",
        "  FAISS `IndexFlatIP` of labelled match x-rays; top-1 label vs the true main content.",
        "",
    ]
    return "\n".join(lines)
