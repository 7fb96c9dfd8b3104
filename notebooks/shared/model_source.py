# 模型和数据从哪里来。这个单元与仓库里的 notebooks/shared/model_source.py 完全相同（测试会核对）。
# 只有一个设置 SOURCE，可以直接改下面这一行，也可以在启动 Jupyter 之前设置环境变量 LLM_ROADMAP_SOURCE：
#   "offline"     pip 包自带的模型和数据，什么都不下载（不在 Colab、Kaggle 中时的默认值）
#   "hub"         Hugging Face Hub（在 Colab、Kaggle 中的默认值）
#   "modelscope"  魔搭社区 ModelScope，在中国大陆通常又快又稳（需要 pip install modelscope）
#   "auto"        按上面的规则自动选
import importlib.util
import os
import sys
from pathlib import Path

SOURCE = os.environ.get("LLM_ROADMAP_SOURCE", "auto")
# 通过镜像访问 Hugging Face Hub 时填镜像地址，例如第三方的 "https://hf-mirror.com"（是否可信请自行判断）。
# huggingface_hub 只在被导入的那一刻读一次这个地址，所以它必须在导入 transformers、datasets 之前设置，也就是这里。
HF_MIRROR = os.environ.get("HF_ENDPOINT", "")
# 本站的仓库和分支，与 mkdocs.yml 的 repo_url、notebook_branch 一致（测试会核对）；fork 之后改这一行
REPO, BRANCH = "llm-roadmap-zh/llm-roadmap", "main"


def choose_source(setting, environ=os.environ, modules=sys.modules):
    """(source, why): the source the setting names, or for "auto" the one that suits where we run."""
    setting = setting.strip().lower()
    if setting in ("offline", "hub", "modelscope"):
        return setting, "按 SOURCE 的设置"
    if setting != "auto":
        raise ValueError(f"SOURCE 只能是 auto、offline、hub、modelscope 之一，现在是 {setting!r}")
    if "KAGGLE_KERNEL_RUN_TYPE" in environ:  # Kaggle 的 notebook 里总有这个环境变量
        return "hub", "auto：在 Kaggle 中，用 Hugging Face Hub"
    if "google.colab" in modules:
        return "hub", "auto：在 Colab 中，用 Hugging Face Hub"
    return "offline", "auto：不在 Colab、Kaggle 中，用 pip 包自带的模型和数据"


def use_hf_mirror(url):
    """Send huggingface_hub to a mirror.  Only possible before it is imported: it reads the address once."""
    url = url.strip().rstrip("/")
    if not url:
        return
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None and constants.ENDPOINT.rstrip("/") != url:
        raise RuntimeError("huggingface_hub 已经导入，现在设置的镜像地址不会生效。"
                           "请重启内核（菜单「内核 → 重新启动」），然后从头运行，让这个单元先于任何导入运行。")
    os.environ["HF_ENDPOINT"] = url


def repository_root():
    """This site's repository if the notebook runs inside a clone of it (from notebooks/ or the root), else None."""
    for folder in (Path.cwd(), Path.cwd().parent):
        if (folder / "tools" / "offline_models").is_dir() and (folder / "notebooks").is_dir():
            return folder
    return None


def need_repository(what):
    """Stop with instructions: `what` needs this site's repository, which is not here."""
    raise RuntimeError(
        f"{what}需要本站仓库里的工具，但这里找不到仓库（notebook 是单独下载或在线打开的）。二选一：\n"
        f"  1. 克隆仓库再运行：git clone https://github.com/{REPO}.git，进入目录后 "
        "pip install -r requirements.txt，然后打开 notebooks/ 里的这个 notebook；\n"
        '  2. 改用在线来源：把 SOURCE 改成 "hub"（Hugging Face）或 "modelscope"（魔搭社区），需要联网。')


SOURCE, WHY = choose_source(SOURCE)
use_hf_mirror(HF_MIRROR)
if SOURCE == "modelscope" and importlib.util.find_spec("modelscope") is None:
    raise ModuleNotFoundError("SOURCE 是 modelscope，但没有安装 modelscope 库：先运行 pip install modelscope，"
                              "再重新运行这个单元。")
print(f"模型和数据的来源：{SOURCE}（{WHY}）" + (f"；Hub 镜像：{os.environ['HF_ENDPOINT']}" if HF_MIRROR else ""))
