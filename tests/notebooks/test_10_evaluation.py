"""The evaluation notebook: its hand-written EM, token F1, BLEU, ROUGE-L, classification averages and
Cohen's kappa against sacrebleu, rouge-score and scikit-learn; the judge's prompts, verdict parsing and
bias report; the multiple-choice prompt and answer extraction; the n-gram contamination check; and the
shape of its data files.  Imported from the notebook, no model."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
import sacrebleu
from rouge_score import rouge_scorer
from sklearn.metrics import cohen_kappa_score, confusion_matrix, f1_score, precision_recall_fscore_support

from tests.notebook_import import load_exports

NAME = "10-evaluation.ipynb"
DATA = Path(__file__).resolve().parents[2] / "notebooks" / "data"


@pytest.fixture(scope="module")
def nb():
    return load_exports(NAME)


def rows(name):
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


# --- short answers -------------------------------------------------------------------------------
def test_tokens_keep_numbers_and_words_whole_and_split_chinese(nb):
    assert nb.char_tokens("退款 3.5% 在 iPhone 15 上，共120元") == ["退", "款", "3.5%", "在", "iPhone", "15", "上", "，", "共", "120", "元"]
    assert nb.answer_tokens("７ 天。") == ["7", "天"]  # full width to half width, punctuation dropped
    assert nb.answer_tokens("Python 3.12") == ["python", "3.12"]


@pytest.mark.parametrize("prediction, reference, em", [("7天", "7 天", 1.0), ("７ 天。", "7 天", 1.0), ("北京市", "北京", 0.0),
                                                       ("", "", 1.0), ("", "7 天", 0.0)])
def test_exact_match_compares_normalised_tokens(nb, prediction, reference, em):
    assert nb.exact_match(prediction, reference) == em


PAIRS = [("签收后 7 天内", "7 天"), ("七天", "7 天"), ("30 天", "3 天"), ("不是 7 天", "7 天"), ("周一", "7 天"),
         ("的的的", "的"), ("可以退货，可以换货", "可以退货"), ("Python 3.12 好用", "python 3.12")]


@pytest.mark.parametrize("prediction, reference", PAIRS)
def test_token_f1_is_rouge1_f_with_the_same_tokenizer(nb, prediction, reference):
    scorer = rouge_scorer.RougeScorer(["rouge1"], tokenizer=nb.Tokenizer(nb.answer_tokens))
    assert nb.token_f1(prediction, reference) == pytest.approx(scorer.score(reference, prediction)["rouge1"].fmeasure)


def test_token_f1_of_empty_answers_follows_squad(nb):
    assert nb.token_f1("", "") == 1.0
    assert nb.token_f1("", "7 天") == 0.0 and nb.token_f1("。", "7 天") == 0.0
    assert nb.token_f1("周一", "7 天") == 0.0


# --- BLEU ----------------------------------------------------------------------------------------
def zh(text):
    from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh
    return TokenizerZh()(text).split()


SENTENCES = [
    ("可以，签收后 7 天内就可以申请无理由退货。", ["可以。签收后 7 天内，商品未使用、吊牌完好，就能申请无理由退货。"]),
    ("", ["退款一般 3 天到账"]),                                  # empty hypothesis
    ("好的", ["退款一般 3 天到账"]),                              # no match at all
    ("退款", ["退款一般 3 天到账"]),                              # shorter than 4 tokens: effective order
    ("退款一般到账", ["退款一般 3 天到账"]),                       # brevity penalty, a zero-match order: exp smoothing
    ("退款 3 天到账", ["退款一般 3 天到账", "3 天到账"]),           # two references: the closest length
    ("的的的的的的", ["的猫在垫子上"]),                             # clipped counts
    ("单笔订单满 199 元包邮，不满 199 元收 8 元运费。", ["单笔订单满 99 元包邮，不满 99 元收 8 元运费。"]),
]


@pytest.mark.parametrize("hypothesis, references", SENTENCES, ids=[f"s{i}" for i in range(len(SENTENCES))])
def test_sentence_bleu_equals_sacrebleu(nb, hypothesis, references):
    mine = nb.sentence_bleu(zh(hypothesis), [zh(r) for r in references])
    assert mine == pytest.approx(sacrebleu.sentence_bleu(hypothesis, references, tokenize="zh").score, abs=1e-9)


def test_corpus_bleu_sums_statistics_like_sacrebleu(nb):
    hypotheses = [h for h, _ in SENTENCES]
    references = [refs[0] for _, refs in SENTENCES]
    mine = nb.corpus_bleu([zh(h) for h in hypotheses], [[zh(r)] for r in references])
    assert mine == pytest.approx(sacrebleu.corpus_bleu(hypotheses, [references], tokenize="zh").score, abs=1e-9)
    assert nb.corpus_bleu([zh("好的")], [[zh("退款一般 3 天到账")]]) == 0.0  # no match at all
    assert nb.corpus_bleu([zh("退款")], [[zh("退款")]]) == 0.0  # without effective order a missing order gives 0


def test_bleu_matches_sacrebleu_on_random_token_lists(nb):
    rng = random.Random(0)
    vocab = list("退款将在七个工作日内到账天不可以") + ["7", "30", "3.5"]
    for _ in range(300):
        hyp = [rng.choice(vocab) for _ in range(rng.randint(0, 12))]
        refs = [[rng.choice(vocab) for _ in range(rng.randint(1, 12))] for _ in range(rng.randint(1, 3))]
        theirs = sacrebleu.sentence_bleu(" ".join(hyp), [" ".join(r) for r in refs], tokenize="none").score
        assert nb.sentence_bleu(hyp, refs) == pytest.approx(theirs, abs=1e-9)


# --- ROUGE-L -------------------------------------------------------------------------------------
def test_lcs_length(nb):
    assert nb.lcs_length(list("ABCBDAB"), list("BDCABA")) == 4
    assert nb.lcs_length([], list("abc")) == 0 and nb.lcs_length(list("abc"), list("xyz")) == 0


@pytest.mark.parametrize("prediction, reference", [(h, refs[0]) for h, refs in SENTENCES] + [("退款", ""), ("", "")],
                         ids=[f"s{i}" for i in range(len(SENTENCES) + 2)])
@pytest.mark.parametrize("split", ["char_tokens", "jieba_tokens"])
def test_rouge_l_equals_rouge_score_with_a_chinese_tokenizer(nb, prediction, reference, split):
    split = getattr(nb, split)
    library = rouge_scorer.RougeScorer(["rougeL"], tokenizer=nb.Tokenizer(split)).score(reference, prediction)["rougeL"]
    assert nb.rouge_l(split(prediction), split(reference)) == pytest.approx((library.precision, library.recall, library.fmeasure))


def test_the_default_rouge_tokenizer_drops_chinese(nb):
    """The pitfall the notebook shows: without a tokenizer only digits and Latin letters are left."""
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    assert scorer.score("退款将在 7 个工作日内到账", "三十天 7 内")["rougeL"].fmeasure == 1.0


# --- classification ------------------------------------------------------------------------------
@pytest.mark.parametrize("labels", [["负面", "正面"], ["负面", "中性", "正面"]])
def test_confusion_matrix_and_averages_equal_scikit_learn(nb, labels):
    rng = random.Random(len(labels))
    y_true = [rng.choice(labels) for _ in range(200)]
    y_pred = [t if rng.random() < 0.6 else rng.choice(labels) for t in y_true]
    matrix = nb.confusion_counts(y_true, y_pred, labels)
    assert matrix == confusion_matrix(y_true, y_pred, labels=labels).tolist()
    library = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    for k, (p, r, f, n) in enumerate(nb.per_class_scores(matrix)):
        assert (p, r, f, n) == pytest.approx((library[0][k], library[1][k], library[2][k], library[3][k]))
    for average in ("micro", "macro", "weighted"):
        assert nb.averaged_f1(matrix, average) == pytest.approx(f1_score(y_true, y_pred, labels=labels, average=average, zero_division=0))


def test_a_class_never_predicted_counts_zero_and_macro_differs_from_micro(nb):
    y_true = ["正面"] * 90 + ["负面"] * 10
    matrix = nb.confusion_counts(y_true, ["正面"] * 100, ["负面", "正面"])
    assert nb.per_class_scores(matrix)[0] == (0.0, 0.0, 0.0, 10)
    assert nb.averaged_f1(matrix, "micro") == pytest.approx(0.9)
    assert nb.averaged_f1(matrix, "macro") == pytest.approx(f1_score(y_true, ["正面"] * 100, average="macro", zero_division=0))
    with pytest.raises(ValueError):
        nb.averaged_f1(matrix, "samples")


# --- Cohen's kappa -------------------------------------------------------------------------------
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_equals_scikit_learn(nb, weights):
    rng = random.Random(1)
    for _ in range(20):
        a = [rng.randint(1, 5) for _ in range(30)]
        b = [min(5, max(1, x + rng.choice([-1, 0, 0, 1, 2]))) for x in a]
        assert nb.cohen_kappa(a, b, [1, 2, 3, 4, 5], weights) == pytest.approx(
            cohen_kappa_score(a, b, labels=[1, 2, 3, 4, 5], weights=weights))


def test_kappa_of_the_worked_example_on_the_stage_page(nb):
    """docs/stages/03-applications.md: 100 items, 45 both pass, 35 both fail, A passes 60, B passes 50 → 0.60."""
    a = ["合格"] * 45 + ["合格"] * 15 + ["不合格"] * 5 + ["不合格"] * 35
    b = ["合格"] * 45 + ["不合格"] * 15 + ["合格"] * 5 + ["不合格"] * 35
    assert nb.agreement(a, b) == pytest.approx(0.80)
    assert nb.cohen_kappa(a, b, ["合格", "不合格"]) == pytest.approx(0.60)
    assert nb.cohen_kappa(a, a, ["合格", "不合格"]) == pytest.approx(1.0)


# --- the judge -----------------------------------------------------------------------------------
def test_judge_messages_show_both_answers_in_the_order_given(nb):
    pair = {"question": "一周有几天？", "answer_a": "7 天。", "answer_b": "5 天。"}
    (q1, a1, b1), (q2, a2, b2) = nb.both_orders(pair)
    assert (a1, b1) == ("7 天。", "5 天。") and (a2, b2) == ("5 天。", "7 天。") and q1 == q2 == "一周有几天？"
    messages = nb.judge_messages(q1, a1, b1)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "A 或 B" in messages[0]["content"] and "更长" in messages[0]["content"]
    user = messages[1]["content"]
    assert user.index("一周有几天？") < user.index("回答 A：7 天。") < user.index("回答 B：5 天。")


@pytest.mark.parametrize("reply, verdict", [("A", "A"), ("B", "B"), ("回答 B 更好。", "B"), ("我选择：A", "A"), ("答案是「B」", "B"),
                                            ("两个回答都不错", None), ("A 和 B 各有优点", None), ("Both are fine", None), ("", None)])
def test_parse_verdict(nb, reply, verdict):
    assert nb.parse_verdict(reply) == verdict


def test_probability_of_a_is_a_softmax_over_two_logits(nb):
    assert nb.probability_of_a(3.0, 3.0) == pytest.approx(0.5)
    assert nb.probability_of_a(2.0, 0.0) == pytest.approx(1 / (1 + 2.718281828459045 ** -2))
    assert nb.probability_of_a(-50.0, 50.0) < 1e-40


def test_shared_prefix_leaves_every_sequence_a_token_of_its_own(nb):
    assert nb.shared_prefix([[1, 2, 3, 4], [1, 2, 5]]) == [1, 2]
    assert nb.shared_prefix([[1, 2, 3], [1, 2, 3, 4]]) == [1, 2]
    assert nb.shared_prefix([[7], [8]]) == []


def test_judge_report_measures_position_and_length_bias(nb):
    pairs = [{"label": "A", "kind": "长而错", "answer_a": "短", "answer_b": "很长很长"},
             {"label": "B", "kind": "长而错", "answer_a": "很长很长", "answer_b": "短"},
             {"label": "A", "kind": "事实错误", "answer_a": "对", "answer_b": "错"},
             {"label": "B", "kind": "事实错误", "answer_a": "错", "answer_b": "对"}]
    always_a = nb.judge_report(pairs, [0.6] * 4, [0.6] * 4)
    assert always_a["选位置 A 的比例"] == 1.0 and always_a["两种顺序一致"] == 0.0
    assert always_a["准确率（原顺序）"] == always_a["准确率（交换顺序）"] == 0.5
    perfect = nb.judge_report(pairs, [0.9, 0.1, 0.9, 0.1], [0.1, 0.9, 0.1, 0.9])
    assert perfect["准确率（原顺序）"] == perfect["准确率（交换顺序）"] == perfect["两种顺序一致"] == 1.0
    assert perfect["选位置 A 的比例"] == 0.5 and perfect["长回答获胜（交换顺序取平均）"] == 0.0
    likes_long = nb.judge_report(pairs, [0.4, 0.6, 0.5, 0.5], [0.6, 0.4, 0.5, 0.5])
    assert likes_long["长回答获胜（差回答更长的几对）"] == 1.0 and likes_long["长回答获胜（交换顺序取平均）"] == 1.0


# --- multiple choice -----------------------------------------------------------------------------
def test_mcq_prompt_and_reversed_choices(nb):
    item = rows("eval_mcq.jsonl")[0]
    prompt = nb.mcq_prompt(item)
    assert prompt.startswith(f"以下是中国关于{item['subject']}考试的单项选择题") and prompt.endswith("答案：")
    assert all(f"{letter}. {text}" in prompt for letter, text in item["choices"].items())
    choices, answer = nb.reversed_choices(item)
    assert list(choices.values()) == list(item["choices"].values())[::-1]
    assert choices[answer] == item["choices"][item["answer"]]


@pytest.mark.parametrize("reply, letter", [("B", "B"), ("答案：C", "C"), ("答案是 (D)。", "D"), ("B. 80", "B"),
                                           ("我认为应该选A，因为 HTTP 默认端口是 80。", "A"), ("正确答案是「A」", "A"),
                                           ("答案是 B。A 是 FTP 的端口", "B"), ("80", None), ("A 和 B 都有可能", None)])
def test_extract_choice(nb, reply, letter):
    assert nb.extract_choice(reply) == letter


# --- contamination -------------------------------------------------------------------------------
def test_ngram_overlap(nb):
    item = "秦朝统一六国是在 A. 公元前 221 年 B. 公元前 206 年 答案：A"
    assert nb.ngram_overlap(item, "题库：" + item + "。解析：略") == 1.0
    assert nb.ngram_overlap(item, "秦朝统一六国是在（ ）A．公元前221年 B．公元前206年 答案：A") == 1.0  # spaces, full width
    assert nb.ngram_overlap(item, "这家酒店的服务非常好") == 0.0
    assert nb.ngram_overlap("短", "短") == 0.0  # shorter than n: nothing to check
    half = nb.ngram_overlap("一二三四五六七八九十", "一二三四五六七八", n=8)
    assert half == pytest.approx(1 / 3)


# --- data files ----------------------------------------------------------------------------------
def test_judge_pairs_are_balanced_between_positions():
    pairs = rows("judge_pairs.jsonl")
    assert len(pairs) == 20 and len({p["id"] for p in pairs}) == 20
    assert Counter(p["label"] for p in pairs) == {"A": 10, "B": 10}
    long_wrong = [p for p in pairs if p["kind"].startswith("长")]
    assert len(long_wrong) == 8 and Counter(p["label"] for p in long_wrong) == {"A": 4, "B": 4}
    for p in long_wrong:  # the worse answer is much longer
        better, worse = p["answer_" + p["label"].lower()], p["answer_" + ("b" if p["label"] == "A" else "a")]
        assert len(worse) >= 2 * len(better), p["id"]
    for p in pairs:
        assert set(p) == {"id", "question", "answer_a", "answer_b", "label", "kind"} and p["answer_a"] != p["answer_b"]


def test_human_ratings_are_two_raters_on_a_1_to_5_scale():
    ratings = rows("human_ratings.jsonl")
    answers = {p["answer_a"] for p in rows("judge_pairs.jsonl")} | {p["answer_b"] for p in rows("judge_pairs.jsonl")}
    assert len(ratings) == 24
    for r in ratings:
        assert r["answer"] in answers
        for rater in ("rater_1", "rater_2"):
            assert set(r[rater]) == {"correctness", "helpfulness"}
            assert all(isinstance(v, int) and 1 <= v <= 5 for v in r[rater].values())


def test_generations_have_four_systems_per_question():
    generations = rows("eval_generations.jsonl")
    by_id = Counter(g["id"] for g in generations)
    assert len(by_id) == 8 and set(by_id.values()) == {4}
    systems = {(g["system"], g["correct"]) for g in generations}
    assert systems == {("贴近参考", True), ("换个说法", True), ("改一个关键事实", False), ("意思改反", False)}


def test_mcq_answers_are_spread_over_the_letters():
    questions = rows("eval_mcq.jsonl")
    assert Counter(q["answer"] for q in questions) == {"A": 2, "B": 2, "C": 2, "D": 2}
    for q in questions:
        assert list(q["choices"]) == ["A", "B", "C", "D"] and len(set(q["choices"].values())) == 4
