"""The executed notebooks: within budget, and with clean outputs."""

import re

import nbformat
import pytest

from tools import notebook_meta
from tools.notebook_runner import executed_path

NOTEBOOKS = notebook_meta.sources()
NOISE = re.compile(r"Glyph \d+ .*missing from (current )?font|\d+%\|[█▉▊▋▌▍▎▏ ]+\||Warning|warn\(", re.I)


@pytest.fixture(scope="module")
def executed(site):  # the site fixture executes every notebook
    return {p.stem: nbformat.read(executed_path(notebook_meta.load(p)), as_version=4) for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_within_time_budget(executed, path):
    """The budget on 2 cores is in the notebook's metadata (llm_roadmap.budget_seconds)."""
    budget = notebook_meta.load(path).budget_seconds
    info = executed[path.stem].metadata["run_info"]
    assert info["wall_seconds"] <= budget, (f"{path.name} took {info['wall_seconds']} s, over its budget of "
                                            f"{budget} s: make it faster or raise budget_seconds")


STATED_TIME = re.compile(r"\*\*预计用时\*\*：[^。]*?在 2 核 CPU 上运行(不到|约)? ?(\d+)(?:～(\d+))? 分钟")


def stated_minutes(nb) -> tuple[int, int]:
    """The run time on 2 cores a notebook's opening states, as (fewest, most) minutes."""
    found = STATED_TIME.search(nb.cells[0].source)
    assert found, "the first cell states the run time on 2 CPU cores (**预计用时**：…在 2 核 CPU 上运行约 N 分钟)"
    hedge, low, high = found.groups()
    return (0, int(low)) if hedge == "不到" else (int(low), int(high or low))


def covers(low: float, high: float, seconds: float) -> bool:
    """A stated low–high minutes covers a measured run: the run may be up to three times faster than the
    lower end (readers' laptops are slower than the build machine) and a quarter slower than the upper
    end (a slow day on the build machine)."""
    return low * 60 / 3 <= seconds <= high * 60 * 1.25


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_stated_run_time_is_the_measured_one(executed, path):
    """Notebook 03 said "about 2 minutes" and took 5."""
    low, high = stated_minutes(executed[path.stem])
    seconds = executed[path.stem].metadata["run_info"]["wall_seconds"]
    assert covers(low, high, seconds), f"{path.name}: states {low}–{high} min, took {seconds:.0f} s"


def test_the_stated_time_check_can_fail():
    opening = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "- **预计用时**：默认的离线设置在 2 核 CPU 上运行约 2 分钟（本页顶部有实测的时间）")])
    assert stated_minutes(opening) == (2, 2)
    assert not covers(2, 2, 310) and covers(4, 5, 310)  # notebook 03: its old estimate, its new one, its run


ALL_NOTEBOOKS_SECONDS = 35 * 60  # the series' rule: a cold CI run (all notebooks, both builds, every test) stays under 45 minutes


def test_budgets_add_up_to_at_most_35_minutes():
    total = sum(notebook_meta.load(p).budget_seconds for p in NOTEBOOKS)
    assert total <= ALL_NOTEBOOKS_SECONDS, f"the notebooks' budgets add up to {total / 60:.0f} minutes"


def test_all_notebooks_ran_in_at_most_35_minutes(executed):
    total = sum(nb.metadata["run_info"]["wall_seconds"] for nb in executed.values())
    assert total <= ALL_NOTEBOOKS_SECONDS, f"executing every notebook took {total / 60:.1f} minutes"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_clean(executed, path):
    problems = []
    for index, cell in enumerate(executed[path.stem].cells, start=1):
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.output_type == "stream" else ""
            if output.output_type == "error":
                problems.append(f"cell {index}: error output")
            if output.get("name") == "stderr" and text.strip():
                problems.append(f"cell {index}: stderr: {text[:200]}")
            if NOISE.search(text):
                problems.append(f"cell {index}: {NOISE.search(text)[0]}")
            if text.count("\n") > 60:
                problems.append(f"cell {index}: {text.count(chr(10))} lines of text output")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_run_info_has_memory_and_disk(executed, path):
    """Each notebook page's header states the measured RAM and disk needs (tools/prebuild.py)."""
    info = executed[path.stem].metadata["run_info"]
    assert info["peak_rss_kb"] > 0 and info["peak_disk_bytes"] >= 0
    assert (info["model_bytes"] > 0) == bool(notebook_meta.load(path).models)


def test_notebook_04_states_its_measured_memory_and_disk(executed):
    """The prose of notebook 04 gives its memory and disk needs in round numbers: they match the run."""
    nb = executed["04-lora-finetuning"]
    prose = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    info = nb.metadata["run_info"]
    ram = float(re.search(r"峰值接近 (\d+) GB", prose).group(1))
    disk = float(re.search(r"运行中还要约 (\d+) GB 的临时磁盘空间", prose).group(1))
    assert ram - 1 < info["peak_rss_kb"] / 2**20 <= ram, (ram, info["peak_rss_kb"])
    assert abs(info["peak_disk_bytes"] / 2**30 - disk) <= 0.5, (disk, info["peak_disk_bytes"])


def _text_outputs(nb) -> str:
    """Everything the notebook printed or displayed as text/plain, in order."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_bert_meets_the_offline_targets(executed):
    """Issue 5: at least 0.82 test accuracy on a held-out set of at least 400 rows."""
    text = _text_outputs(executed["03-bert-chinese-sentiment"])
    accuracy, support = re.search(r"^\s*accuracy\s+([0-9.]+)\s+(\d+)$", text, re.M).groups()
    assert float(accuracy) >= 0.82 and int(support) >= 400, (accuracy, support)
    baseline = re.search(r"TF-IDF \+ 逻辑回归（同样 \d+ 条，C=\S+）\s+([0-9.]+)", text)
    assert baseline, "the baseline on the same split is shown"


def test_bert_shows_where_chinese_characters_are_split_apart(executed):
    """The prose: BertPreTokenizer alone keeps a run of Han characters whole; BertNormalizer splits it."""
    text = _text_outputs(executed["03-bert-chinese-sentiment"])
    assert "只预切分： ['这家酒店的服务非常好', '，', 'playing', '很开心']" in text
    assert "先规范化： ['这', '家', '酒', '店', '的', '服', '务'" in text


def test_bert_prose_about_calibration_and_significance_holds(executed):
    """What notebook 03's prose says about its own results (issue 13): confidences spread out,
    temperature scaling > 1 lowers the test ECE without changing a prediction, the top bin is
    overconfident; the fine-tuned model beats the same-data baseline significantly, the lead
    shrinks and is no longer significant with 2x and 4x the data, and is even at about 10x."""
    text = _text_outputs(executed["03-bert-chinese-sentiment"])
    low, median, high = map(float, re.search(r"最低 ([0-9.]+)，中位数 ([0-9.]+)，最高 ([0-9.]+)", text).groups())
    assert low < 0.6 and high - median > 0.01, (low, median, high)  # not one saturated value
    assert "手写的区间统计与 sklearn 的 calibration_curve 一致： True" in text
    t, before, after = map(float, re.search(r"温度 T = ([0-9.]+)；测试集 ECE：缩放前 ([0-9.]+)，缩放后 ([0-9.]+)；"
                                             r"预测不变：True", text).groups())
    assert t > 1 and after < before, (t, before, after)
    bins = re.findall(r"^\d+\s+\S+～\S+\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)$", text, re.M)
    assert len(bins) >= 5 and float(bins[-1][1]) > float(bins[-1][2]), bins  # top bin: predicted > observed
    hand, scipy = re.search(r"手写 p = (\S+)，scipy\.stats\.binomtest：(\S+)", text).groups()
    assert hand == scipy
    rows = re.findall(r"^\d+\s+(\d+) 条\S*\s+([0-9.]+)\s+(-?[0-9.]+)\s+([+-][0-9.]+) ～ ([+-][0-9.]+)"
                      r"\s+\d+\s+\d+\s+([0-9.]+)$", text, re.M)
    assert len(rows) == 4, rows
    sizes, leads, lows, ps = ([float(r[i]) for r in rows] for i in (0, 2, 3, 5))
    assert ps[0] < 0.05 and lows[0] > 0, rows
    assert all(p > 0.05 for p in ps[1:]) and leads == sorted(leads, reverse=True), rows
    assert abs(leads[-1]) <= 0.005 and 9 <= sizes[-1] / sizes[0] <= 11, rows


def test_lora_shows_the_comparison_and_round_trip(executed):
    """Issue 6: the LoRA vs full fine-tuning table, and save/merge/reload giving the same outputs."""
    text = _text_outputs(executed["04-lora-finetuning"])
    assert text.count("allclose = True") == 3 and "allclose = False" not in text
    assert "生成的回答相同： True" in text
    assert re.search(r"\(a\) 初始化时输出与原层相同： True", text)
    assert "(d) 与 peft 的输出一致： True" in text
    table = next(o.data["text/html"] for c in executed["04-lora-finetuning"].cells for o in c.get("outputs", [])
                 if "text/html" in o.get("data", {}) and "全量微调" in o.data["text/html"])
    for row in ("可训练参数", "每步用时", "训练峰值内存增量", "梯度 + 优化器状态", "保存的文件", "测试集损失", "格式合规率"):
        assert row in table, row
    ratio = float(re.search(r"全量微调是 LoRA 的：可训练参数 (\d+) 倍", text).group(1))
    assert ratio > 50  # LoRA r=8 trains under 1% of Gemma 3 270M


def _html_table(nb, word: str) -> list[list[str]]:
    """The rows (cell texts) of the first HTML table output that contains `word`."""
    html = next(o.data["text/html"] for c in nb.cells for o in c.get("outputs", [])
                if word in o.get("data", {}).get("text/html", ""))
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in rows]


def test_api_notebook_prose_holds(executed):
    """What notebook 05's prose says about its own measurements (issue 14)."""
    nb = executed["05-llm-api-prompting"]
    text = _text_outputs(nb)
    table = {(row[0], row[1]): row for row in _html_table(nb, "平均输出 Token")[1:]}
    correct = {key: int(row[2].split("/")[0]) for key, row in table.items()}
    assert len(table) == 7 and all(row[2].endswith("/8") for row in table.values())  # PER_TASK = 8
    # 少样本比零样本好；结构化的系统提示对这个小模型没有帮助
    assert correct["分类", "少样本"] > correct["分类", "零样本"] >= correct["分类", "结构化系统提示"], correct
    # 只说「用 JSON 输出」：没有一个回答能通过校验；写清格式、校验、重试：约一半合法，重试多半改不对
    assert table["抽取", "直接要 JSON"][4] == "0%"
    valid = int(table["抽取", "JSON + 校验 + 重试"][4].rstrip("%"))
    retried = int(re.search(r"校验失败后重试的抽取题 (\d+) 道", text).group(1))
    assert 25 <= valid <= 75 and retried > 0 and 100 - valid >= retried * 100 / 8 / 2, (valid, retried)
    assert "每个字段错了几道：" in text  # 逐字段与标准答案比对
    # 直接回答几乎都错；思维链没有明显变好；有的回答被 max_tokens 截断
    assert correct["算术", "直接回答"] <= 4 and correct["算术", "思维链"] <= correct["算术", "直接回答"] + 2, correct
    assert int(re.search(r"思维链回答被 max_tokens 截断的 (\d+) 道", text).group(1)) > 0
    # the local server batches the concurrent requests of a group
    sizes = [int(n) for n in re.search(r"每批的请求数：\[([\d, ]+)\]", text).group(1).split(",")]
    assert max(sizes) == 8
    # 只换种子，准确率就会变；温度升高后冒出不在类别里的回答
    spread = _html_table(nb, "不在类别里的回答")[1:]
    by_temperature = {t: [row for row in spread if row[0] == t] for t in ("0.7", "1.5")}
    assert any(len({row[2] for row in rows}) > 1 for rows in by_temperature.values()), spread
    outside = {t: sum(int(row[3]) for row in rows) for t, rows in by_temperature.items()}
    assert outside["1.5"] > 0 and outside["1.5"] >= outside["0.7"], outside
    # 隔开输入对这个小模型帮助不大；输出检查拦下全部攻击，并误拦了正常评价
    attacks = {(row[0], row[1]): row for row in _html_table(nb, "攻击成功")[1:]}
    success = {key: int(row[2].split("/")[0]) for key, row in attacks.items()}
    assert success["直接拼接", "无"] > 0 and success["隔开不可信输入", "无"] >= success["直接拼接", "无"] - 1, success
    assert success["直接拼接", "有"] == success["隔开不可信输入", "有"] == 0, success
    assert any(int(row[3].split("/")[0]) > 0 for row in attacks.values()), attacks
    assert re.search(r"用了 [12] 次调用", text)  # the résumé tool ran through ask_json
    # 「上面打印了这次标出的地方」: the checks ran on the advice, or the tool said why there is none
    assert re.search(r"程序检查：\d 条改写，发现 \d+ 处要本人核实", text) or "两次都没有得到合格的 JSON" in text
    calls = int(re.search(r"第 3～6 节一共调用了 (\d+) 次", text).group(1))  # 「要调用一百多次」
    assert 100 <= calls < 200, calls


def test_pytorch_notebook_prose_holds(executed):
    """What notebook 06's prose says about its own results (issue 15)."""
    nb = executed["06-pytorch-and-classic-ml"]
    text = _text_outputs(nb)
    autograd = [row for row in _html_table(nb, "最大绝对差") if row[0] in ("W1", "b1", "W2", "b2")]
    assert len(autograd) == 4 and all(row[-1] == "True" for row in autograd), autograd
    # 学习率前 3 轮升到 3e-3，之后降到 0；梯度范数一直没超过 1，裁剪没有动手
    history = {int(row[0]): row for row in _html_table(nb, "裁剪前最大梯度范数")[2:]}
    assert history[3][4] == "3.00e-03" and history[30][4] == "0.00e+00", history
    assert all(float(row[5]) < 1 for row in history.values()), history
    assert "加载后输出完全相同：True" in text
    # 训练模式：同一张图两次输出不同，准确率三次不全相同；评估模式三次相同
    assert "同一张图两次的输出相同吗？ False" in text
    train_mode, eval_mode = re.search(r"训练模式 ([\d.%, ]+) \| 评估模式 ([\d.%, ]+)", text).groups()
    assert len(set(train_mode.split(", "))) > 1 and len(set(eval_mode.split(", "))) == 1
    assert "相减后的形状： (3, 3)" in text and "错误的损失 1.333" in text and "之后：0.000" in text
    assert "累计值还带着计算图吗？ True" in text and "Can't call numpy() on Tensor that requires grad" in text
    # 线性回归：与 scikit-learn 一致；R² 三分之一左右，RMSE 是标准差的八成
    assert "系数一致： True True" in text
    r2, rmse, std = map(float, re.search(r"R² = ([\d.]+).*RMSE = ([\d.]+)，目标值的标准差 ([\d.]+)", text).groups())
    assert 0.25 < r2 < 0.42 and 0.75 < rmse / std < 0.88, (r2, rmse, std)
    # 多数类基线：准确率六成多，召回率和 F1 为 0；逻辑回归和 SVM 的交叉验证 F1 高于决策树；训练都只要几毫秒
    rows = {row[0]: row for row in _html_table(nb, "漏诊（FN）")[2:]}
    baseline = rows["多数类基线"]
    assert 60 <= float(baseline[2].rstrip("%")) < 70 and baseline[4] == baseline[5] == "0.000", baseline
    cv = {name: float(row[1].split(" ± ")[0]) for name, row in rows.items()}
    assert min(cv["逻辑回归"], cv["SVM（RBF 核）"]) > cv["决策树（深度 4）"], cv
    assert all(float(row[-1]) < 50 for row in rows.values()), rows
    assert "都与 scikit-learn 一致" in text
    # 正则太强时验证 F1 很低，太弱时不再提高
    best_f1, weak_f1, none_f1 = map(float, re.search(
        r"验证 F1 ([\d.]+)；C = 1e-04 时 ([\d.]+)，C = 1e\+03 时 ([\d.]+)", text).groups())
    assert weak_f1 < 0.5 < none_f1 < best_f1, (best_f1, weak_f1, none_f1)
    # K-means：与 scikit-learn 完全相同；相当一致，但有两个簇的多数数字相同
    assert "分配完全相同： True | 中心一致： True" in text
    assert float(re.search(r"随机）：([\d.]+)", text).group(1)) > 0.5
    assert int(re.search(r"覆盖了 (\d+) 种数字", text).group(1)) < 10
    assert "与 nn.Conv2d 一致： True" in text
    # CNN 的参数比 MLP 少
    models = {row[0]: row for row in _html_table(nb, "训练 30 轮用时")[1:]}
    assert int(models["CNN"][1].replace(",", "")) < int(models["MLP"][1].replace(",", "")), models
    # 梯度：RNN 到 T=50 小了好几个数量级、T=100 下溢成 0；未训练的 LSTM 不比它好；
    # 遗忘门偏置 1 衰减慢得多但仍是指数式；注意力 T 增加 50 倍只缩小几十倍
    grads = {int(row[0]): [float(v) for v in row[1:]] for row in _html_table(nb, "LSTM（遗忘门偏置 1）")[2:]}
    rnn, lstm, lstm1, attention = zip(*(grads[T] for T in sorted(grads)))
    assert rnn[4] < rnn[0] * 1e-6 and rnn[5] == 0 and lstm[5] == 0 and lstm[4] < 1e-9, grads
    assert lstm1[4] > 100 * lstm[4] and lstm1[5] < lstm1[0] * 1e-4, grads
    assert 10 < attention[0] / attention[5] < 200, grads
    assert text.count("梯度在 float32 里下溢成了 0") == 2


def test_tokens_notebook_prose_holds(executed):
    """What notebook 07's prose says about its own results (issue 16)."""
    nb = executed["07-tokens-decoding-kv-cache"]
    text = _text_outputs(nb)
    # BPE: the first merges are English; 。 and ， are whole within 16 merges; the library agrees
    merged = _html_table(nb, "合并成")[2][1:]
    assert {"␣t", "he", "␣the", "。", "，"} <= set(merged) and "&lt;E4&gt;&lt;B8&gt;" in merged, merged
    assert "合并规则完全相同：True（300 条）" in text and "120 句（含测试句）的切分完全相同：True" in text
    assert "解码后与原文相同： True" in text and "<E8><BE> | <93>" in text  # 「输」 split as the prose says
    # 手写 BPE：每个汉字 1.6 个以上，每个英文单词 3 个左右；Gemma：约 0.65 和 1.1，中文比英文少一点；差一倍多
    cost = {row[0].split("（")[0]: [float(v) for v in row[1:]] for row in _html_table(nb, "每个英文单词")[2:]}
    hand, gemma = cost["手写 BPE"], cost["Gemma 3 270M"]
    assert hand[2] > 1.6 and 2.7 < hand[4] < 3.3 and 0.6 < gemma[2] < 0.7 and 1.0 < gemma[4] < 1.2, cost
    assert gemma[5] < 1 and hand[2] / gemma[2] > 2, cost
    assert hand[3] < hand[2] / 2 and gemma[3] < gemma[2] / 2, cost  # per character English needs far fewer
    share = int(re.search(r"词表的嵌入矩阵 \d+M（(\d+)%）", text).group(1))
    assert 60 <= share < 70, share  # 六成多
    # decoding (12 new tokens): all six match generate; greedy loops, beam has higher probability and repeats more;
    # T=0.7 and top-k single-digit perplexity; top-p the most diverse sampler, far higher perplexity;
    # repetition penalty the highest distinct-2 and it avoids 「一座」 after 「庙里有」
    rows = {row[0]: row for row in _html_table(nb, "与 generate 相同")[2:]}
    assert len(rows) == 6 and all(row[1] == "True" for row in rows.values()), rows
    d2, ppl = ({name: float(row[i]) for name, row in rows.items()} for i in (4, 5))
    greedy, t07, topk, topp, penalty, beam = rows
    texts = {row[0]: row[1] for row in _html_table(nb, "第一条续写") if len(row) == 2 and row[0] in rows}
    assert texts[greedy].startswith("庙里有一座大殿，大殿里有一座"), texts
    assert texts[beam].startswith("庙里有一座庙，庙里有一座庙"), texts
    assert ppl[beam] < ppl[greedy] < 2.5 and d2[beam] < d2[greedy] < min(d2[t07], d2[topk], d2[topp]), rows
    assert ppl[t07] < 10 and ppl[topk] < 10 and ppl[topp] > 2 * max(ppl[t07], ppl[topk]), ppl
    assert d2[topp] > max(d2[t07], d2[topk]) and d2[penalty] == max(d2.values()), d2
    assert texts[penalty].startswith("庙里有三位女孩子"), texts
    assert all(row[2] == "3/3" for name, row in rows.items() if name in (t07, topk, topp)), rows
    # the toy table: 「猫」 was penalised, its score went down (0.5 → 0.33) and its probability up (0.039 → 0.047)
    toy = {row[0]: row[1:] for row in _html_table(nb, "量子")[1:]}
    assert toy["原始（T=1）"][3] == "0.039" and toy["重复惩罚 1.5"][3] == "0.047", toy
    assert "与手写的温度采样（不截断）相同： False" in text and "与手写的温度采样再加 top-k = 50 相同： True" in text
    # perplexity: by hand = library; shorter context worse (32: more than double, 8: tenfold and more);
    # shuffled about 10×; English far lower per token, fewer bits in all but not by as much
    assert "两者一致： True" in text
    table = {row[0]: [float(v) for v in row[1:]] for row in _html_table(nb, "整段比特数")[2:]}
    original = table["原文"]
    ctx32, ctx8 = table["原文，每个 Token 最多看前面 32 个"], table["原文，每个 Token 最多看前面 8 个"]
    shuffled, english = table["同样的字，顺序打乱"], table["英文译文"]
    assert 2 < ctx32[2] / original[2] < 4 and ctx8[2] / original[2] > 10, table
    assert 7 < shuffled[2] / original[2] < 14 and shuffled[1] > original[1], table
    assert english[2] < original[2] / 3 and original[4] / english[4] < 1.5 < original[2] / english[2], table
    # KV cache: identical tokens; speed-up grows with length and is modest for short outputs; the output
    # layer is a large share of a cached step; formula = tensors = DynamicCache; GQA quarters Llama's cache
    assert "用缓存与不用缓存生成的 Token 完全相同： True" in text and "前 12 个与第 3 节的贪心结果相同： True" in text
    speed = {int(row[0]): float(row[3].split()[0]) for row in _html_table(nb, "不用缓存（秒）")[2:]}
    # 96 the largest, short outputs not much (1.6, 1.5, 1.7 in a cold run on 12-03); 16 and 48 swap with timing noise
    assert speed[96] > max(speed[16], speed[48]) and speed[16] < 1.8, speed
    share = int(re.search(r"输出层占了它的 (\d+)%", text).group(1))
    assert 20 <= share < 100, share  # "一大块" of a step that includes it (62 % in a cold run on a busy machine)
    assert "三者相等： True" in text and "与模型自己的注意力一致：True" in text
    memory = {row[0]: float(row[5]) for row in _html_table(nb, "32768 个 Token（GiB）")[2:]}
    assert memory["Llama 2 7B（多头注意力，不分组）"] == 16 and memory["Llama 3.1 8B"] == 4
    assert memory["Qwen2.5-7B"] < memory["Llama 3.1 8B"]
    assert "18 层里 15 层是滑动窗口注意力（窗口 512）" in text


def test_rag_notebook_prose_holds(executed):
    """What notebook 08's prose says about its own measurements (issue 17)."""
    nb = executed["08-rag-retrieval-augmented-generation"]
    text = _text_outputs(nb)
    # 固定长度的块总字数比正文多出约四分之一（重叠），按标题的块稍多一点（标题路径）
    body = int(re.search(r"正文共 ([\d,]+) 字", text).group(1).replace(",", ""))
    totals = {row[0]: float(row[-1]) for row in _html_table(nb, "总字数") if row and row[0].startswith("按")}
    assert 1.2 < totals["按固定长度"] / body < 1.3 and 1.0 < totals["按标题"] / body < 1.1, (body, totals)
    assert text.count("Faiss 与 NumPy 的前 5 名完全相同： True") == 1  # 只给按句子切分的块算了向量
    assert text.count("的全部得分一致： True") == 3
    mrr, shown_ms, chunking = {}, {}, None
    for row in _html_table(nb, "每题用时")[2:]:  # a Styler table: two header rows, the chunking spans its group
        if len(row) == 7:
            chunking, row = row[0], row[1:]
        mrr[chunking, row[0]] = dict(zip(["r1", "r3", "r5", "mrr"], map(float, row[1:5])))
        shown_ms[chunking, row[0]] = row[5]
    # every time per question is shown as more than zero (E5's matrix product took about 0.02 ms: 0.0 at one decimal)
    assert all(float(ms) > 0 for ms in shown_ms.values()), shown_ms
    chunkings, methods = ["按标题", "按固定长度", "按句子"], ["向量（E5）", "BM25（jieba）", "混合（RRF）", "RAG-Fusion"]
    expected = [(c, "BM25（jieba）") for c in chunkings[:2]] + [("按句子", m) for m in methods]
    assert sorted(mrr) == sorted(expected), sorted(mrr)
    # 按句子切分时：BM25 比 E5 好得多；混合检索比 BM25 单独好不了多少（MRR 最多高出零点零几）。
    # 知识库是本站的页面：页面一改，这几行就会动（12-03 改了几页后，混合检索从 0.79 对 0.79 变成 0.80 对 0.79）
    assert mrr["按句子", "BM25（jieba）"]["mrr"] > mrr["按句子", "向量（E5）"]["mrr"] + 0.05, mrr
    assert mrr["按句子", "混合（RRF）"]["mrr"] <= mrr["按句子", "BM25（jieba）"]["mrr"] + 0.03, mrr
    # RAG-Fusion（每题一个改写）没有比混合检索更好：recall@1、recall@3、MRR 更低，recall@5 相差不超过两题
    # （2/60 ≈ 0.033，表里是两位小数）。改写随拼批而变，重新运行时会差一两题（文字里说明了）。
    deltas = {k: mrr["按句子", "RAG-Fusion"][k] - mrr["按句子", "混合（RRF）"][k] for k in ("r1", "r3", "r5", "mrr")}
    assert deltas["r1"] < 0 and deltas["r3"] < 0 and deltas["mrr"] < 0 and abs(deltas["r5"]) <= 0.04 + 1e-9, deltas
    # BM25 在按标题的块上最好、与按句子相差很小
    bm25 = {c: mrr[c, "BM25（jieba）"]["mrr"] for c in chunkings}
    assert max(bm25, key=bm25.get) == "按标题" and bm25["按标题"] - bm25["按句子"] <= 0.05, bm25
    # 连「换说法」的问题也是 BM25 好
    kinds = {row[0]: row[1:] for row in _html_table(nb, "换说法类")}  # columns: 关键词类, 换说法类, 模糊类
    assert float(kinds["BM25（jieba）"][1]) > float(kinds["向量（E5）"][1]), kinds
    # 改偏了意思的例子：第一个改写只留下了前半个问题
    first = re.search(r"top-p 采样又叫什么？它出自哪篇论文？ → \[([^\]]*)\]", text).group(1)
    assert "论文" not in first, first
    # 每题只要一个改写（只复述问题或例子的改写被丢掉）
    assert 0.8 <= float(re.search(r"平均每题 ([\d.]+) 个改写", text).group(1)) <= 1
    # 前两种失败都被挑了出来；第三种只在回答过的几道题里找，找不到时 notebook 直说
    assert "每道题的前 3 名里都有正确的块" not in text and "没有正确的块排在第 2、3 名的题" not in text


def test_agent_notebook_prose_holds(executed):
    """What notebook 09's prose says about its own measurements (issue 18)."""
    nb = executed["09-agent-tool-calling"]
    text = _text_outputs(nb)
    assert "两者的判断完全一致： True" in text and "MCP 服务已关闭" in text
    table, name = {}, None
    for row in _html_table(nb, "平均步数"):  # a Styler table: the format spans its two rows
        if len(row) == 11:
            name, row = row[0], row[1:]
        if row and row[0] in ("有错误反馈", "无错误反馈"):
            table[name, row[0]] = {"n": int(row[1]), "success": float(row[2].rstrip("%")) / 100, "steps": float(row[3])}
    measured = len(range(0, 34, 4))  # 34 个任务每 4 个取 1 个；自带格式再从中每 3 个取 1 个
    hand, same, native = "手写 JSON 协议", f"手写 JSON 协议（同样 {len(range(0, measured, 3))} 个任务）", "模型自带的工具调用格式"
    assert sorted({k[0] for k in table}) == sorted([hand, same, native]), table
    assert table[hand, "有错误反馈"]["n"] == measured and table[native, "有错误反馈"]["n"] == len(range(0, measured, 3))
    # 0.5B：有无错误反馈的成功率相同；自带格式在同样的任务上比手写协议低
    for name in (hand, same, native):
        assert table[name, "有错误反馈"]["success"] == table[name, "无错误反馈"]["success"], name
    assert table[native, "有错误反馈"]["success"] < table[same, "有错误反馈"]["success"]
    assert table[native, "有错误反馈"]["steps"] <= 1.5  # 自带格式：多数任务一步就用文字回答，不调用工具
    # 计算多数能做对；这次跑的单位换算、日期、搜索本站和多步全错
    kinds = {row[0]: float(row[-1].rstrip("%")) / 100 for row in _html_table(nb, "通过")[1:] if row}
    assert kinds["计算"] > 0.5 and max(kinds["单位换算"], kinds["日期"], kinds["搜索本站"], kinds["多步"]) == 0, kinds
    # 0.5B 出过错的任务一个也没改对；1.5B 四种错误都改对了
    erred, fixed = map(int, re.search(r"个任务里 (\d+) 个出过错，收到错误信息后最终答对的 (\d+) 个", text).groups())
    assert erred >= 3 and fixed == 0, (erred, fixed)
    # the failure traces the prose points to: calc-09 writes ^ for a power and still fails (fixed == 0 above); what
    # follows varies from run to run, as the prose says: the calculator's ^ hint, or a JSON error (a cold run on
    # 12-03); 克 for 千克, 32.8 rounded to 32, and a JSON error met with a request to check the JSON
    trace = re.search(r"calc-09：.*（检查.*\n((?:  \d\. .*\n     .*\n)+)  结束", text)
    steps = trace.group(1) if trace else ""
    assert re.match(r'  1\. \{"tool": "calculator", .*"expression": "[^"]*\^', steps), "calc-09"
    assert "✗ 工具出错：ValueError：^ 在 Python 里是按位异或" in steps or "✗ JSON 格式错误" in steps, "calc-09"
    assert re.search(r"unit-02：.*\n.*\"from_unit\": \"克\"", text), "unit-02"
    assert re.search(r"unit-06：.*\n(.*\n){2}  2\. \{\"answer\": \"10 米约等于 32 英尺", text), "unit-06"
    assert re.search(r"site-03：.*\n(.*\n){3}     ✗ JSON 格式错误.*\n  3\. \{\"answer\": \"请检查 JSON 格式", text), "site-03"
    # 第 9 节的表：一个编出来的日期（没有调用 today），一个抄了示范里的「克」的回答
    mcp = _html_table(nb, "调用的工具")[1:]
    assert any(row[0].startswith("请用「年月日」") and "today" not in row[1] and row[3] == "False" for row in mcp), mcp
    assert any(row[2].endswith("克。") and row[3] == "True" for row in mcp), mcp
    recovery = _html_table(nb, "1.5B 改对了")[1:]
    assert len(recovery) == 4 and all(row[2] == "✓" for row in recovery), recovery


def test_evaluation_notebook_prose_holds(executed):
    """What notebook 10's prose says about its own results (issue 19)."""
    nb = executed["10-evaluation"]
    text = _text_outputs(nb)
    for line in ("手写 ROUGE-L 的 (P, R, F) 与 rouge-score 一致：64/64 句", "默认分词器眼里的参考答案： ['7']",
                 "「按字，数字整体」和「sacrebleu zh」切出同样 Token 的句子：40/40",
                 "手写的混淆矩阵、每类的 P/R/F1 和三种平均都与 scikit-learn 相同",
                 "手写的三种 kappa 与 scikit-learn 的 cohen_kappa_score 相同"):
        assert line in text, line
    assert re.search(r"句子级：\d+ 句，手写与 sacrebleu 的最大差 0\.0e\+00", text)
    # 第 1 节：「北京市」「签收后 7 天内」意思对，EM 却是 0；「30 天」「不是 7 天」错了，Token F1 却不低
    em = {row[0]: (float(row[2]), float(row[3])) for row in _html_table(nb, "Token F1")[1:]}
    assert em["北京市"][0] == em["签收后 7 天内"][0] == 0 and em["7天"][0] == em["７ 天。"][0] == 1, em
    assert min(em["30 天"][1], em["不是 7 天"][1]) >= 0.5, em
    # 第 2、4 节：改错一个事实的回答，BLEU 比贴近参考的还高；换个说法的正确回答最低
    bleu = {row[0]: float(row[1]) for row in _html_table(nb, "手写 corpus_bleu")[1:]}
    assert bleu["改一个关键事实"] > bleu["贴近参考"] > bleu["意思改反"] > bleu["换个说法"], bleu
    splits = {row[0]: [float(v) for v in row[1:]] for row in _html_table(nb, "sacrebleu 默认（13a）")[1:]}
    assert splits["换个说法"][0] == 0, splits  # 13a 把一串汉字当一个词
    assert all(scores[3] < scores[2] for scores in splits.values()), splits  # jieba 词比按字低
    numbers = {row[2]: [float(v) for v in row[3:]] for row in _html_table(nb, "满 199 元包邮")[1:]}
    wrong, right = numbers["数字改错"], numbers["中文数字，正确"]
    assert wrong[0] > wrong[1] and right[2] == wrong[2] and all(r < w for r, w in zip(right, wrong) if r != w), numbers
    ranking = [[row[0] for row in sorted(_html_table(nb, "平均ROUGE_L")[2:], key=lambda r: -float(r[k]))]
               for k in (2, 3, 4, 5)]
    assert all(order == ["改一个关键事实", "贴近参考", "意思改反", "换个说法"] for order in ranking), ranking
    won, total = map(int, re.search(r"按 ROUGE-L，(\d+) 个问题里有 (\d+) 个，改错了关键事实", text).groups()[::-1])
    assert won == total, (won, total)
    # 第 5 节：永远回答「正面」的准确率（= micro F1）更高，macro F1 更低；误判成负面的正面评论比负面评论还多
    scores = {row[0]: row[1:] for row in _html_table(nb, "macro F1")[2:]}
    ours, always = scores["jieba + TF-IDF + 逻辑回归"], scores["永远回答「正面」"]
    assert float(always[0]) > float(ours[0]) and float(always[-2]) < float(ours[-2]), scores  # 准确率、macro F1
    assert all(row[0] == row[-3] for row in scores.values()), scores  # 准确率 = micro F1
    assert float(ours[1]) < 0.5 < float(ours[2]), ours  # 负面：精确率低、召回率高
    false_negative = int(re.search(r"真实正面\s+(\d+)\s+\d+\n", text).group(1))
    assert false_negative > 60, false_negative
    # 第 6 节：0.5B 的评审总选 A，P(A) 只比 0.5 高一点；长回答排在 A 时 P(A) 更高
    assert "每个提示之后模型最想输出的 Token： {'A': 40}" in text
    report = _html_table(nb, "长回答获胜")[1]
    assert report[:5] == ["50%", "50%", "0%", "100%", "50%"] and int(report[5][:-1]) < 50, report
    assert int(report[6][:-1]) >= 7 / 8 * 100 - 1, report  # 8 对里至少 7 对选了长的
    judged = _html_table(nb, "P(A) 交换后")[1:]
    assert all(0.5 < float(row[5]) < 0.7 and 0.5 < float(row[6]) < 0.7 for row in judged), judged
    long_in_a, long_in_b = [], []  # 长回答在 A、在 B 时的 P(A)（按「选长回答」的方向）
    for row in (r for r in judged if r[1].startswith("长而")):
        long_first = int(row[3]) > int(row[4])  # 原顺序里长回答在 A
        written, swapped = float(row[5]), float(row[6])
        long_in_a.append(written if long_first else swapped)
        long_in_b.append(swapped if long_first else written)
    assert all(a >= b for a, b in zip(long_in_a, long_in_b)), judged  # 几乎总是更高，bfloat16 下个别相等
    assert sum(a > b for a, b in zip(long_in_a, long_in_b)) >= len(long_in_a) - 1, judged
    # 第 7 节：kappa 比一致率低；有用性的分歧多半只差 1 分，加权后 kappa 高得多
    kappa = {row[0]: [float(v) for v in row[1:]] for row in _html_table(nb, "线性加权 kappa")[1:]}
    assert all(k[1] < k[0] for k in kappa.values()), kappa
    assert kappa["有用性"][0] < kappa["正确性"][0] and kappa["有用性"][2] > kappa["有用性"][1] + 0.3, kappa
    # 第 8 节：原顺序答对一半，倒过来一道不对；两种排法几乎总选同一个字母
    assert "准确率： {'原顺序': '50%', '倒过来': '0%'}" in text and "两种排法下选中同一个选项内容的题：0/8" in text
    mcq = _html_table(nb, "模型选（原顺序）")[1:]
    assert sum(row[2] == row[4] for row in mcq) >= len(mcq) - 1, mcq  # 几乎每道题两种排法选同一个字母
    overlap = {row[0]: (float(row[1]), float(row[2])) for row in _html_table(nb, "8 元组重合比例")[1:]}
    copied, reworded, unrelated = overlap.values()
    assert copied[0] > 0.8 and reworded[0] == unrelated[0] == 0 and reworded[1] > 0, overlap


def test_serving_notebook_prose_holds(executed):
    """What notebook 11's prose says about its own measurements (issue 19)."""
    nb = executed["11-model-serving"]
    text = _text_outputs(nb)
    assert re.search(r"allclose（容差 (1e-05，float32|0\.01，bfloat16)）：True", text)  # 容差按第 0 节选的类型
    for line in ("类别全部相同：True", "与直接调用 model.generate 的结果相同： True",
                 "sse_event 与 sse-starlette 的格式相同： True", "两个服务都已关闭： True", "读回来与内存里的相同：True",
                 "hadolint：没有发现问题"):
        assert line in text, line
    accuracy, majority = map(float, re.search(r"测试集准确率 ([0-9.]+)%（全猜人数多的那一类：([0-9.]+)%）", text).groups())
    assert accuracy > majority + 20, (accuracy, majority)
    # 坏输入：九个 422、一个 400（不是 JSON）、一个 405（方法不对），每个都写明原因
    bad = {row[0]: (row[2], row[3]) for row in _html_table(nb, "原因（detail）")[1:]}
    assert [status for status, _ in bad.values()].count("422") == 9 and bad["不是 JSON"][0] == "400"
    assert bad["方法不对"][0] == "405" and all(reason for _, reason in bad.values()), bad
    # 流式：第一段文字比最后一段早到
    first, last = map(float, re.search(r"第一段在 ([0-9.]+) 秒后到达，最后一段在 ([0-9.]+) 秒后", text).groups())
    assert first < last
    # 粗心的 Dockerfile：DL3007、DL3013、DL3025，没有关于 root 用户的 DL3002
    rules = [row[1] for row in _html_table(nb, "DL3007")[1:]]
    assert {"DL3007", "DL3013", "DL3025"} <= set(rules) and "DL3002" not in rules, rules
    assert f"退出码 1，{len(rules)} 条发现：" in text, rules
    # 压测：不批处理时每次算 1 条，并发越高 p50 越长；动态批处理时批随并发变大，并发 4、16 的吞吐量更高
    rows, service = {}, None
    for row in _html_table(nb, "吞吐量是不批处理的几倍")[2:]:
        if len(row) == 9:
            service, row = row[0], row[1:]
        rows[service, int(row[0])] = {"p50": float(row[2]), "forward": int(row[5]), "batch": float(row[6]),
                                      "ratio": float(row[7])}
    plain = [rows["不批处理", c] for c in (1, 4, 16)]
    batched = [rows["动态批处理", c] for c in (1, 4, 16)]
    assert all(r["batch"] == 1.0 and r["forward"] == 64 for r in plain), plain
    assert plain[0]["p50"] < plain[1]["p50"] < plain[2]["p50"], plain
    assert batched[0]["batch"] == 1.0 < batched[1]["batch"] < batched[2]["batch"], batched
    assert batched[1]["ratio"] > 1 and batched[2]["ratio"] > 1, batched
    assert batched[2]["p50"] < plain[2]["p50"], (batched, plain)
    sizes = re.search(r"动态批处理、并发 16 时，\d+ 次前向计算各算了几条：\[([\d, ]+)\]", text).group(1).split(", ")
    assert len(set(sizes)) > 1, sizes


def test_tiny_gpt_notebook_prose_holds(executed):
    """What notebook 12's prose says about its own runs (issue 20)."""
    nb = executed["12-tiny-chinese-gpt"]
    text = _text_outputs(nb)
    assert re.search(r"每首的句数：\{8: \d+\}", text)  # 留下的诗全是八句
    # 第 2 节：一大半是单字，几百个词，两千多个字只能拆成字节
    single, words = map(int, re.search(r"(\d+) 个汉字各是一个 Token，(\d+) 个 Token 是两个及以上的汉字", text).groups())
    assert single > 1500 and 100 <= words < 1000, (single, words)
    split = int(re.search(r"中，([\d,]+) 个没有自己的 Token", text).group(1).replace(",", ""))
    assert 2000 <= split < 3000, split
    # 第 3 节：约 120 万个参数，三分之一在词嵌入里
    counts = {row[0]: int(row[1]) for row in _html_table(nb, "词嵌入（与输出层共用）") if row[1].isdigit()}
    assert 1.1e6 < counts["合计"] < 1.3e6 and 0.3 < counts["词嵌入（与输出层共用）"] / counts["合计"] < 0.37, counts
    # 第 4 节：几十步后低于一元模型；最后困惑度一百多；语料看了一遍多一点；最初的样例里有拼不成字的字节
    samples = [row for row in _html_table(nb, "样例（斜线是换行）") if len(row) == 3 and row[0].isdigit()]
    perplexity = {int(row[0]): int(row[1]) for row in samples}
    unigram = int(re.search(r"一元模型的困惑度 (\d+)", text).group(1))
    assert perplexity[50] < unigram and 100 <= perplexity[300] < 200, (perplexity, unigram)
    seen, total = (int(v.replace(",", "")) for v in re.search(r"共看了 ([\d,]+) 个 Token（训练集有 ([\d,]+) 个）", text).groups())
    assert 1 < seen / total < 2, (seen, total)
    assert samples[0][0] == "0" and "�" in samples[0][2]
    # 第 5 节：要四句时预训练模型多半写八句；SFT 后按句数停下的比例大幅上升；格式全对的比例低一些
    asked_four = eval(re.search(r"要四句时，预训练模型写的句数： (\{.*\})", text).group(1))
    assert max(asked_four, key=asked_four.get) == 8, asked_four
    sft = {row[0]: [float(v.rstrip("%")) for v in row[1:]] for row in _html_table(nb, "句数和每句七字都符合")[1:]}
    assert sft["SFT 后"][0] >= sft["预训练后"][0] + 30 and sft["SFT 后"][1] < sft["SFT 后"][0], sft
    # 第 6 节
    chosen, rejected, corpus = map(float, re.search(r"chosen ([0-9.]+)，rejected ([0-9.]+)；语料里的一首律诗 ([0-9.]+)",
                                                    text).groups())
    assert chosen < rejected and sft["SFT 后"][2] > corpus, (chosen, rejected, corpus)
    dpo = {int(row[0]): [float(v.rstrip("%")) for v in row[1:]] for row in _html_table(nb, "对 SFT 的胜率")
           if row and row[0].isdigit()}
    steps = sorted(dpo)
    train_acc, train_margin, train_chosen, held_acc, held_margin, held_chosen, repeats, form, win, ppl = zip(
        *(dpo[s] for s in steps))
    assert steps == [0, 15, 30, 45] and train_acc[1] >= 90, dpo                      # 1. 很快背下训练的偏好对
    assert all(a < b for a, b in zip(train_margin, train_margin[1:])), train_margin
    assert all(h < t / 3 for h, t in zip(held_margin[1:], train_margin[1:])) and all(a <= 65 for a in held_acc[1:]), dpo
    assert train_chosen[-1] < 0 and held_chosen[-1] < train_chosen[-1], dpo          # 2. chosen 的概率也在降
    assert all(a > b for a, b in zip(repeats, repeats[1:])) and win[-1] > 50, dpo    # 3. 重字少了
    assert all(a > b for a, b in zip(form[1:], form[2:])) and all(a < b for a, b in zip(ppl, ppl[1:])), dpo
    assert ppl[0] > 1.2 * perplexity[300], (ppl, perplexity)  # SFT 后的困惑度比预训练结束时高了一截
    assert "的 DPOTrainer 与手写的 DPO 在同一批" in text
    assert "重新加载后的 logits 与训练好的模型相同：True" in text
