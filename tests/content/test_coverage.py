"""Every topic the roadmap promises is on its page.

Each topic is a list of alternatives: the page must contain at least one of
them (case-insensitive).  The list follows the issue that defines the site.
"""

import pytest

from tests.content.pages import text

TOPICS = {
    "index.md": [["路线图", "学习路线"], ['class="roadmap"'], ["方向"], ["动手实践", "notebook"], ["自测", "阶段评估"]],
    "directions.md": [["大模型开发"], ["大模型应用开发"], ["大模型研究"], ["大模型工程化"]],
    "stages/01-getting-started.md": [
        ["什么是大语言模型", "大语言模型是"], ["能做什么", "擅长"], ["不能", "局限"], ["API"],
        ["提示词", "Prompt"], ["发展", "历史"]],
    "stages/02-foundations.md": [
        ["NumPy"], ["Pandas"], ["PyTorch"], ["线性代数"], ["概率"], ["统计"], ["微积分", "导数"],
        ["回归"], ["决策树"], ["SVM", "支持向量机"], ["聚类"], ["准确率", "评估指标"], ["正则化"],
        ["交叉验证"], ["神经元"], ["激活函数"], ["损失函数"], ["反向传播"], ["SGD", "随机梯度下降"],
        ["Adam"], ["CNN", "卷积神经网络"], ["RNN", "循环神经网络"], ["自注意力"], ["多头注意力"],
        ["位置编码"], ["编码器"], ["解码器"], ["√d_k", "\\sqrt{d_k}"], ["MLM", "掩码语言模型"],
        ["下一个词", "next-token", "下一个 token"], ["transformers"], ["datasets"], ["```mermaid"]],
    "stages/03-applications.md": [
        ["预训练"], ["全量微调", "全参数微调"], ["LoRA"], ["QLoRA"], ["Adapter"], ["Prefix"],
        ["P-Tuning"], ["指令数据", "指令微调"], ["少样本", "few-shot"], ["思维链", "CoT"],
        ["思维树", "ToT"], ["提示注入", "prompt injection"], ["越狱", "jailbreak"], ["Embedding", "嵌入"],
        ["向量数据库"], ["RAG"], ["混合检索"], ["RAG-Fusion"], ["智能体", "Agent"], ["规划"],
        ["工具调用", "工具使用"], ["LangChain"], ["LlamaIndex"], ["F1"], ["BLEU"], ["ROUGE"],
        ["人工评估", "人工评测"], ["基准", "benchmark"], ["法律"], ["医疗"], ["金融"], ["教育"],
        ["FastAPI"]],
    "stages/04-advanced.md": [
        ["数据并行"], ["流水线并行"], ["张量并行"], ["混合专家", "MoE"], ["ZeRO"],
        ["激活检查点", "activation checkpointing"], ["混合精度"], ["卸载", "offload"],
        ["优化器"], ["RLHF"], ["对齐"], ["量化"], ["剪枝"], ["蒸馏"], ["vLLM"], ["TensorRT-LLM"],
        ["批处理", "batching"], ["KV Cache", "KV 缓存"], ["延迟"], ["吞吐"], ["成本"],
        ["私有化部署"], ["```mermaid"]],
    "stages/05-frontier.md": [
        ["混合专家", "MoE"], ["注意力"], ["多模态"], ["高效预训练"], ["极限量化", "1-bit", "BitNet"],
        ["多智能体"], ["安全"], ["对齐"], ["可解释性"], ["治理", "合规"], ["备案"], ["读论文", "阅读论文"],
        ["arXiv"]],
    "concepts.md": [
        ["定义"], ["小模型"], ["涌现"], ["基础模型", "Foundation Model"], ["GPT"], ["ChatGPT"],
        ["1956"], ["特点", "特征"], ["应用领域", "应用场景"], ["视觉"], ["多模态"], ["L0"], ["L1"], ["L2"],
        ["泛化"], ["微调"], ["数据"], ["算力"], ["算法"], ["MMLU"], ["C-Eval"], ["SuperCLUE"],
        ["OpenCompass"], ["数据并行"], ["张量并行"], ["流水线并行"], ["生成式模型"], ["判别式模型"],
        ["P(x, y)", "P(x,y)"]],
    "plan.md": [["12 周", "十二周"], ["每天"], ["每周"], ["有技术背景", "有编程基础"], ["没有技术背景", "零基础"]],
    "resources.md": [["课程"], ["书"], ["论文"], ["社区"], ["工具"]],
    "faq.md": [["GPU"], ["计算机", "非科班"], ["跟上", "跟进"], ["时间"], ["误区", "错误"]],
    "career.md": [["方向"], ["作品集"], ["求职", "找工作"], ["持续学习"]],
}

CASES = [(page, alternatives) for page, topics in TOPICS.items() for alternatives in topics]


@pytest.mark.parametrize("page,alternatives", CASES, ids=[f"{p}:{a[0]}" for p, a in CASES])
def test_topic_is_covered(page, alternatives):
    content = text(page).lower()
    assert any(alt.lower() in content for alt in alternatives), f"{page} lacks {alternatives}"


# Errors and lures from the source articles that must not come back (pages may
# warn readers about lures in general, but never carry one).
SOURCE_ERRORS = ["RHLF", "Bard 是", "加微信", "添加微信", "领取红包", "私信领取", "年薪百万"]


@pytest.mark.parametrize("page", sorted({p for p in TOPICS} | {"glossary.md"}))
def test_known_source_errors_and_ads_are_gone(page):
    content = text(page)
    assert not [e for e in SOURCE_ERRORS if e in content]
