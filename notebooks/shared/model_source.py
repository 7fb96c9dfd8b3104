# 模型和数据从哪里来。这个单元与仓库里的 notebooks/shared/model_source.py 完全相同（测试会核对）。
# 环境变量 USE_HF_HUB：auto（默认）在 Colab 里用 Hugging Face Hub，在其他地方用 pip 包自带的离线模型和数据；
# 1 / 0 强制使用 / 不使用 Hub。想通过镜像访问 Hub 时再设置 HF_ENDPOINT。
import os
import sys

IN_COLAB = "google.colab" in sys.modules
_setting = os.environ.get("USE_HF_HUB", "auto").strip().lower()
USE_HUB = IN_COLAB if _setting == "auto" else _setting in ("1", "true", "yes")
