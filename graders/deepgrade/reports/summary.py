"""The class summary for the instructor (summary.json, summary.html; histogram.png when
matplotlib is installed).

Statistics (mean, median, histogram, pass rate, per-question rates, common mistakes)
cover graded submissions only; rows that were not graded (unreadable, another
assignment, another file of the same student, skipped files, grader errors) are counted
apart. A table lists every row with the student's name, id, file, points, status and
sandbox incidents, and each incident (timeout, memory, crash) names the submissions it hit.
"""

from __future__ import annotations

import html
import json
import statistics
from collections import Counter
from pathlib import Path

from ..course.assignment import Assignment
from ..course.contract import DEFAULT_PASS_PERCENT
from ..grading.results import fmt_points
from ..portable.status import RowStatus

BINS = 10  # histogram: 0-10 %, ..., 90-100 % (100 % in the last bin)


def who(sub) -> str:
    """The student as the instructor knows them: "Jane Doe (123456)", or the file's path."""
    sid = getattr(sub, "student_id", "")
    return f"{sub.name} ({sid})" if sid else sub.name


def _percent(points: float, max_points: float) -> float:
    return 100 * points / max_points if max_points else 0.0


def histogram(percents: list[float]) -> list[int]:
    """Counts per 10 % bin; a score of exactly 100 % is in the last bin."""
    counts = [0] * BINS
    for p in percents:
        counts[min(BINS - 1, max(0, int(p // (100 / BINS))))] += 1
    return counts


def class_summary(assignment: Assignment, submissions, results) -> dict:
    """Numbers for the instructor: graded submissions' statistics, the others counted apart,
    a row per submission, incidents with the submissions they hit."""
    rows = list(zip(submissions, results))
    graded = [(s, r) for s, r in rows if r.status == RowStatus.GRADED]
    pass_percent = float(assignment.contract.pass_percent if assignment.contract else DEFAULT_PASS_PERCENT)
    pcts = [_percent(r.points, assignment.max_points) for _, r in graded]
    per_q = {}
    for q in assignment.questions:
        pts = [next((x.points for x in r.questions if x.name == q.name), 0.0) for _, r in graded]
        per_q[q.name] = {
            "points": q.points,
            "pass_rate": round(sum(1 for p in pts if p >= q.points - 1e-9) / len(pts), 3) if pts else 0.0,
            "mean": round(sum(pts) / len(pts), 2) if pts else 0.0,
        }
    mistakes: Counter = Counter()
    for _, r in graded:
        mistakes.update({d for q in r.questions for c in q.checks for d in c.diagnosis})
    known = getattr(assignment, "mistakes", {})
    common = [
        {
            "id": mid,
            "title": known[mid].title if mid in known else mid,
            "function": known[mid].function if mid in known else "",
            "students": n,
        }
        # ties by id: most_common keeps insertion order, which follows a set's per-process order
        for mid, n in sorted(mistakes.items(), key=lambda item: (-item[1], item[0]))
    ]
    incidents: dict[str, list[str]] = {}
    for s, r in rows:
        for kind in r.incidents:
            incidents.setdefault(kind, []).append(who(s))
    statuses = Counter(r.status for _, r in rows)
    return {
        "assignment": assignment.name,
        "title": assignment.title,
        "max_points": assignment.max_points,
        "rows": len(rows),
        "graded": len(graded),
        "statuses": dict(statuses),
        "not_graded": {k: n for k, n in statuses.items() if k != RowStatus.GRADED},
        "mean_percent": round(statistics.fmean(pcts), 1) if pcts else 0.0,
        "median_percent": round(statistics.median(pcts), 1) if pcts else 0.0,
        "pass_percent": pass_percent,
        "pass_rate": round(sum(1 for p in pcts if p >= pass_percent - 1e-9) / len(pcts), 3) if pcts else 0.0,
        "percents": [round(p, 2) for p in pcts],
        "histogram": histogram(pcts),
        "questions": per_q,
        "common_mistakes": common,
        "incidents": incidents,
        "students": [
            {
                "name": s.name,
                "id": getattr(s, "student_id", ""),
                "file": r.file,
                "points": r.points,
                "max_points": r.max_points,
                "status": r.status,
                "reason": r.reason,
                "incidents": list(r.incidents),
                "feedback": f"feedback/{s.stem}.html",
            }
            for s, r in rows
        ],
    }


def _links(page: str, out: Path) -> str:
    """A row's feedback: the annotated notebook (and the flat list beside it) when the row was
    graded, else the flat report."""
    flat = page[: -len(".html")] + ".report.html"
    if (out / flat).is_file():
        return (
            f"<a href='{html.escape(page, quote=True)}'>notebook</a> &middot; "
            f"<a href='{html.escape(flat, quote=True)}'>list</a>"
        )
    return f"<a href='{html.escape(page, quote=True)}'>feedback</a>"


def _histogram_png(percents: list[float], path: Path) -> bool:
    """histogram.png with matplotlib, if it is installed (an optional dependency)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        path.unlink(missing_ok=True)
        return False
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


def _histogram_svg(counts: list[int]) -> str:
    """The histogram as inline SVG (needs nothing installed)."""
    w, h, pad = 600, 220, 30
    top = max(counts) or 1
    bw = (w - 2 * pad) / len(counts)
    bars = []
    for i, n in enumerate(counts):
        bh = (h - 2 * pad) * n / top
        x, y = pad + i * bw, h - pad - bh
        bars.append(
            f"<rect x='{x + 2:.1f}' y='{y:.1f}' width='{bw - 4:.1f}' height='{bh:.1f}' fill='#3b6ea8'>"
            f"<title>{i * 10}-{(i + 1) * 10} %: {n}</title></rect>"
            f"<text x='{x + bw / 2:.1f}' y='{y - 4:.1f}' text-anchor='middle' font-size='12'>{n or ''}</text>"
            f"<text x='{x + bw / 2:.1f}' y='{h - pad + 14:.1f}' text-anchor='middle' font-size='11'>{i * 10}</text>"
        )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' role='img' "
        f"aria-label='histogram of scores'><line x1='{pad}' y1='{h - pad}' x2='{w - pad}' y2='{h - pad}' "
        f"stroke='#444'/>{''.join(bars)}<text x='{w / 2}' y='{h - 2}' text-anchor='middle' font-size='11'>"
        "score (% of points)</text></svg>"
    )


def _similar_section(similar) -> str:
    """The most alike pairs (similarity.py), or why there are none: flags for a person."""
    esc = html.escape
    if similar is None:
        return ""
    if isinstance(similar, str):
        return f"<h2>Most alike code</h2><p>Not compared: {esc(similar)}</p>"
    from .similarity import NOTE, SUMMARY_PAIRS, anchor

    rows = "".join(
        f"<tr><td>{p.score:.2f}</td><td>{esc(p.function)}</td><td>{esc(p.a.who)}</td><td>{esc(p.b.who)}</td>"
        f"<td><a href='{esc(anchor(p, similar), quote=True)}'>side by side</a></td></tr>"
        for p in similar.best_pairs()[:SUMMARY_PAIRS]
    )
    table = (
        "<div class='wide'><table><tr><th>score</th><th>function</th><th>student</th><th>student</th><th></th></tr>"
        f"{rows}</table></div>"
        if rows
        else "<p>No two submissions share code beyond the starter code.</p>"
    )
    return f"<h2>Most alike code</h2><p>{esc(NOTE)} Every function: <a href='similarity.html'>similarity.html</a>.</p>{table}"


def write_class_summary(assignment: Assignment, submissions, results, out: Path, similar=None) -> None:
    """summary.json, summary.html (histogram.png with matplotlib).

    similar: the class's similarity.Report, a sentence saying why there is none, or None."""
    s = class_summary(assignment, submissions, results)
    (out / "summary.json").write_text(json.dumps(s, indent=1), encoding="utf-8")
    png = _histogram_png(s["percents"], out / "histogram.png")
    esc = html.escape
    rows_q = "".join(
        f"<tr><td>{esc(name)}</td><td>{fmt_points(q['points'])}</td><td>{fmt_points(q['mean'])}</td>"
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
    apart = ", ".join(f"{n} {esc(k)}" for k, n in sorted(s["not_graded"].items())) or "none"
    incident_items = (
        "".join(
            f"<li>{esc(kind)} ({len(who)}): {esc(', '.join(who))}</li>" for kind, who in sorted(s["incidents"].items())
        )
        or "<li>none</li>"
    )
    rows_s = "".join(
        f"<tr class='{esc(st['status'])}'><td>{esc(st['name'])}</td><td>{esc(st['id'])}</td><td>{esc(st['file'])}</td>"
        f"<td>{fmt_points(st['points'])} / {fmt_points(st['max_points'])}</td>"
        f"<td>{esc(st['status'])}{': ' + esc(st['reason']) if st['reason'] else ''}</td>"
        f"<td>{esc(', '.join(st['incidents']))}</td><td>{_links(st['feedback'], out)}</td></tr>"
        for st in s["students"]
    )
    stats = (
        f"Mean {s['mean_percent']:g}%, median {s['median_percent']:g}%, "
        f"{100 * s['pass_rate']:.0f}% at or above {s['pass_percent']:g}%."
        if s["graded"]
        else "No submission was graded."
    )
    picture = _histogram_svg(s["histogram"]) + (
        "" if png else "<p>(histogram.png not written: matplotlib is not installed)</p>"
    )
    page = f"""<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(assignment.name)}: class summary</title>
<style>body{{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222;overflow-wrap:anywhere}}
table{{border-collapse:collapse;margin:.5rem 0 1.5rem;max-width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.25rem .7rem;text-align:left}}
td{{overflow-wrap:anywhere}}svg{{max-width:100%;height:auto}}.wide{{max-width:100%;overflow-x:auto}}
.bar{{display:inline-block;width:10rem;height:.8rem;background:#eee;margin-right:.5rem;vertical-align:middle}}
.bar span{{display:block;height:100%;background:#17692f}}tr:not(.graded) td{{color:#8a1c1c}}</style></head><body>
<h1>{esc(assignment.name)} &mdash; {esc(assignment.title)}</h1>
<p>{s["rows"]} row(s): {s["graded"]} graded; not graded, counted apart: {apart}.</p>
<p>Statistics of the {s["graded"]} graded submission(s): {stats}</p>
<h2>Score distribution (graded submissions)</h2>{picture}
<h2>Pass rate per question</h2><table><tr><th>question</th><th>points</th><th>mean</th><th>full marks</th></tr>{rows_q}</table>
<h2>Most common diagnosed mistakes</h2><table><tr><th>students</th><th>mistake</th><th>function</th></tr>{rows_m}</table>
<h2>Sandbox incidents</h2><ul>{incident_items}</ul>
{_similar_section(similar)}
<h2>Every submission</h2><table><tr><th>student</th><th>id</th><th>file</th><th>points</th><th>status</th>
<th>incidents</th><th></th></tr>{rows_s}</table>
</body></html>"""
    (out / "summary.html").write_text(page, encoding="utf-8", errors="backslashreplace")
