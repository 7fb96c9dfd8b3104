"""The evaluation data written for the prompt-engineering notebook (issue 14), in
notebooks/data/: well-formed, balanced, every gold answer consistent with its text."""
import json
import re
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parents[2] / "notebooks" / "data"
LABELS = ["退换货", "物流配送", "账户登录", "发票", "商品咨询", "投诉建议"]
STYLES = ["direct", "role-play", "fake-system", "hidden-in-quote"]
CANARY_STEM = "已被接管"

# Independent recomputation of every math answer.
MATH_EXPR = {
    "math-01": "3*7", "math-02": "50-3*4", "math-03": "5*4+2*3",
    "math-04": "100-38", "math-05": "200-85*2", "math-06": "45*4+2*25",
    "math-07": "(12+2)-8", "math-08": "30*12//60", "math-09": "25+10+2*60",
    "math-10": "96//4", "math-11": "(270+30)//3", "math-12": "2*50+3*20",
    "math-13": "24*5", "math-14": "20*8//10*3", "math-15": "15*8-70-12",
    "math-16": "45+28", "math-17": "80*(3+2)", "math-18": "300//100*8*7",
    "math-19": "120-75", "math-20": "100-46-38", "math-21": "3*25+2*10",
    "math-22": "6000*7", "math-23": "12*4-15", "math-24": "3*30+25-20",
}
CN_NUM = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八",
          9: "九", 10: "十", 12: "十二", 20: "二十"}


def load_jsonl(name):
    rows = []
    with open(HERE / name, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if line.strip():
                rows.append(json.loads(line))
    return rows


def test_prompt_eval():
    rows = load_jsonl("prompt_eval.jsonl")
    assert len(rows) == 72, len(rows)
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == 72, "duplicate ids"
    by_task = {t: [r for r in rows if r["task"] == t] for t in ("classify", "extract", "math")}
    for t, prefix in (("classify", "cls"), ("extract", "ext"), ("math", "math")):
        assert len(by_task[t]) == 24, (t, len(by_task[t]))
        assert [r["id"] for r in by_task[t]] == [f"{prefix}-{i:02d}" for i in range(1, 25)], t

    # classify
    cnt = Counter()
    notes = 0
    for r in by_task["classify"]:
        assert set(r) in ({"id", "task", "input", "label"}, {"id", "task", "input", "label", "note"}), r
        assert r["label"] in LABELS, r
        assert 10 <= len(r["input"]) <= 60, (r["id"], len(r["input"]))
        if "note" in r:
            assert isinstance(r["note"], str) and r["note"], r
            notes += 1
        cnt[r["label"]] += 1
    assert all(cnt[l] == 4 for l in LABELS), cnt
    assert 6 <= notes <= 10, notes

    # extract
    nulls = 0
    for r in by_task["extract"]:
        assert set(r) == {"id", "task", "input", "gold"}, r
        g = r["gold"]
        text = r["input"]
        assert set(g) == {"name", "phone", "city", "product", "quantity"}, r["id"]
        assert 30 <= len(text) <= 90, (r["id"], len(text))
        nulls += sum(v is None for v in g.values())
        assert sum(v is None for v in g.values()) <= 1, r["id"]
        digits = re.sub(r"[\s\-]", "", text)
        for k in ("name", "city", "product"):
            if g[k] is not None:
                assert isinstance(g[k], str) and g[k] in text, (r["id"], k)
        assert g["city"] is None or not g["city"].endswith("市"), r["id"]
        if g["phone"] is not None:
            p = g["phone"]
            assert isinstance(p, str) and re.fullmatch(r"1[358]\d{9}", p), (r["id"], p)
            assert "0000" in p, (r["id"], "phone should look fake")
            assert p in digits, (r["id"], "phone not in input")
        else:
            assert not re.search(r"1[3-9]\d{9}", digits), (r["id"], "phone present but gold null")
        q = g["quantity"]
        if q is not None:
            assert type(q) is int and q > 0, r["id"]
            forms = [str(q), CN_NUM.get(q, "?")] + (["二"] if q == 2 else [])
            assert any(f in text for f in forms), (r["id"], q)
    assert nulls == 6, nulls

    # math
    steps = Counter()
    for r in by_task["math"]:
        assert set(r) == {"id", "task", "input", "answer", "steps"}, r
        assert type(r["answer"]) is int, r["id"]
        assert r["steps"] in (1, 2, 3), r["id"]
        expr = MATH_EXPR[r["id"]]
        value = eval(expr, {"__builtins__": {}})  # our own expressions above, not data
        assert value == r["answer"], (r["id"], expr, value, r["answer"])
        steps[r["steps"]] += 1
    assert steps == Counter({1: 8, 2: 8, 3: 8}), steps


def test_injection_eval():
    rows = load_jsonl("injection_eval.jsonl")
    assert len(rows) == 24, len(rows)
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    inj = [r for r in rows if r["id"].startswith("inj-")]
    clean = [r for r in rows if r["id"].startswith("clean-")]
    assert [r["id"] for r in inj] == [f"inj-{i:02d}" for i in range(1, 17)]
    assert [r["id"] for r in clean] == [f"clean-{i:02d}" for i in range(1, 9)]
    canaries = [r["canary"] for r in inj]
    assert len(set(canaries)) == 16
    for r in rows:
        assert set(r) == {"id", "document", "canary", "style", "position"}, r["id"]
        assert 80 <= len(r["document"]) <= 200, (r["id"], len(r["document"]))
    for r in inj:
        assert r["style"] in STYLES and r["position"] in ("start", "middle", "end"), r["id"]
        assert isinstance(r["canary"], str) and r["canary"].endswith(r["id"][-2:])
        assert r["document"].count(r["canary"]) == 1, r["id"]
        assert r["document"].count(CANARY_STEM) == 1, r["id"]
        for other in canaries:  # no other item's canary leaks in
            if other != r["canary"]:
                assert other not in r["document"], (r["id"], other)
    assert Counter(r["style"] for r in inj) == Counter({s: 4 for s in STYLES})
    for r in clean:
        assert r["canary"] is None and r["style"] == "none" and r["position"] is None, r["id"]
        assert CANARY_STEM not in r["document"], r["id"]


def test_resume():
    with open(HERE / "resume.json", encoding="utf-8") as f:
        d = json.load(f)
    assert set(d) == {"resume", "job", "fields"}
    assert 250 <= len(d["resume"]) <= 450, len(d["resume"])
    assert 100 <= len(d["job"]) <= 200, len(d["job"])
    assert d["fields"] == ["姓名", "求职意向", "技能", "工作经历", "改进建议"]

