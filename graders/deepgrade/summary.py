"""The class summary for the instructor: score distribution, pass rate per question,
the most common diagnosed mistakes (summary.json, summary.html, histogram.png)."""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path

from .assignment import Assignment


def class_summary(assignment: Assignment, submissions, results) -> dict:
    """Numbers for the instructor: distribution, pass rate per question, common mistakes."""
    graded = [r for s, r in zip(submissions, results) if s.status != "duplicate"]
    statuses = Counter(r.status for r in graded)
    incidents = Counter(i for r in graded for i in r.incidents)
    per_q = {}
    for q in assignment.questions:
        pts = [next((x.points for x in r.questions if x.name == q.name), 0.0) for r in graded]
        per_q[q.name] = {
            "points": q.points,
            "pass_rate": round(sum(1 for p in pts if p >= q.points - 1e-9) / len(pts), 3) if pts else 0.0,
            "mean": round(sum(pts) / len(pts), 2) if pts else 0.0,
        }
    mistakes: Counter = Counter()
    for r in graded:
        mistakes.update({d for q in r.questions for c in q.checks for d in c.diagnosis})
    common = [
        {
            "id": mid,
            "title": assignment.mistakes[mid].title if mid in assignment.mistakes else mid,
            "function": assignment.mistakes[mid].function if mid in assignment.mistakes else "",
            "students": n,
        }
        for mid, n in mistakes.most_common()
    ]
    pcts = [100 * r.points / assignment.max_points if assignment.max_points else 0 for r in graded]
    return {
        "assignment": assignment.name,
        "title": assignment.title,
        "submissions": len(graded),
        "max_points": assignment.max_points,
        "statuses": dict(statuses),
        "incidents": dict(incidents),
        "mean_percent": round(sum(pcts) / len(pcts), 1) if pcts else 0.0,
        "median_percent": round(sorted(pcts)[len(pcts) // 2], 1) if pcts else 0.0,
        "percents": [round(p, 2) for p in pcts],
        "questions": per_q,
        "common_mistakes": common,
    }


def _histogram(percents: list[float], path: Path) -> bool:
    """histogram.png; False without matplotlib (an optional extra: deepgrade[reports])."""
    try:
        import matplotlib
    except ImportError:
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.hist(percents, bins=[i * 10 for i in range(11)], color="#3b6ea8", edgecolor="white")
    ax.set_xlabel("score (% of points)")
    ax.set_ylabel("students")
    ax.set_xlim(0, 100)
    ax.set_title("Score distribution")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def write_class_summary(assignment: Assignment, submissions, results, out: Path) -> None:
    s = class_summary(assignment, submissions, results)
    (out / "summary.json").write_text(json.dumps(s, indent=1), encoding="utf-8")
    histogram = (
        "<img src='histogram.png' alt='histogram of scores' width='600'>"
        if _histogram(s["percents"], out / "histogram.png")
        else "<p>(no histogram: matplotlib is not installed; pip install 'deepgrade[reports]')</p>"
    )
    esc = html.escape
    rows_q = "".join(
        f"<tr><td>{esc(name)}</td><td>{q['points']:g}</td><td>{q['mean']:g}</td>"
        f"<td><div class='bar'><span style='width:{100 * q['pass_rate']:.0f}%'></span></div>{100 * q['pass_rate']:.0f}%</td></tr>"
        for name, q in s["questions"].items()
    )
    rows_m = (
        "".join(
            f"<tr><td>{m['students']}</td><td>{esc(m['title'])}</td><td>{esc(m['function'])}</td></tr>"
            for m in s["common_mistakes"][:15]
        )
        or "<tr><td colspan='3'>no catalogued mistake was diagnosed</td></tr>"
    )
    status_line = ", ".join(f"{n} {esc(k)}" for k, n in sorted(s["statuses"].items()))
    incident_line = ", ".join(f"{n} {esc(k)}" for k, n in sorted(s["incidents"].items())) or "none"
    page = f"""<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(assignment.name)}: class summary</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;margin:.5rem 0 1.5rem}}td,th{{border-bottom:1px solid #ddd;padding:.25rem .7rem;text-align:left}}
.bar{{display:inline-block;width:10rem;height:.8rem;background:#eee;margin-right:.5rem;vertical-align:middle}}
.bar span{{display:block;height:100%;background:#17692f}}</style></head><body>
<h1>{esc(assignment.name)} &mdash; {esc(assignment.title)}</h1>
<p>{s["submissions"]} submission(s): {status_line}. Mean {s["mean_percent"]:g}%, median {s["median_percent"]:g}%.
Sandbox stops: {incident_line}.</p>
<h2>Score distribution</h2>{histogram}
<h2>Pass rate per question</h2><table><tr><th>question</th><th>points</th><th>mean</th><th>full marks</th></tr>{rows_q}</table>
<h2>Most common diagnosed mistakes</h2><table><tr><th>students</th><th>mistake</th><th>function</th></tr>{rows_m}</table>
</body></html>"""
    (out / "summary.html").write_text(page, encoding="utf-8")
