# 训练之前先估算要算多久、要多少内存，太重就停下。这个单元与仓库里的
# notebooks/shared/compute_budget.py 完全相同（测试会核对）。
import time

import psutil
import torch


def matmul_flops_per_second(device="cpu", size=1024, seconds=0.5):
    """float32 matrix-multiply speed of this device, measured now.  Training never runs
    faster than this, so a time estimated with it is a lower bound."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    a @ b  # 第一次调用要做准备工作，不计时
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        count += 1
    if device == "cuda":
        torch.cuda.synchronize()  # GPU 是异步执行的：等它真正算完再停表
    return count * 2 * size**3 / (time.perf_counter() - started)  # n×n 乘 n×n：n³ 次乘法和 n³ 次加法


def device_memory(device):
    """Bytes of memory training can use: the GPU's own memory, or the machine's RAM."""
    if device == "cuda":
        return torch.cuda.get_device_properties(0).total_memory
    return psutil.virtual_memory().total


def training_flops(params, tokens):
    """About 6 floating-point operations per parameter and token: 2 in the forward pass
    (a multiply and an add) and 4 in the backward pass (Kaplan et al., 2020)."""
    return 6 * params * tokens


def check_budget(flops, memory_bytes, device, max_minutes=15, max_memory_share=None,
                 speed=None, available=None):
    """Print the estimate and stop if training needs more than max_minutes (at least) or more than
    max_memory_share of the device's memory.  Returns the estimated seconds, a lower bound."""
    # 在 CPU 上，同一块内存还要放 Python、各个库、数据和 notebook 留着的其他对象：本站实测的峰值内存
    # 约是训练状态的 2 倍，所以训练状态最多占一半；GPU 显存里基本只有张量，可以用到 80%
    max_memory_share = max_memory_share or (0.8 if device == "cuda" else 0.5)
    speed = speed or matmul_flops_per_second(device)
    available = available or device_memory(device)
    seconds = flops / speed
    print(f"估算：训练约 {flops:.1e} 次浮点运算，{device} 上矩阵乘法实测每秒 {speed / 1e9:.0f} G 次，"
          f"所以至少要 {seconds / 60:.1f} 分钟；训练状态约 {memory_bytes / 2**30:.1f} GB，"
          f"{'显存' if device == 'cuda' else '内存'}共 {available / 2**30:.1f} GB")
    if seconds > max_minutes * 60 or memory_bytes > max_memory_share * available:
        advice = ("在 Colab 里请选「代码执行程序 → 更改运行时类型 → T4 GPU」，再重新运行全部单元；"
                  '只有 CPU 时请把 SOURCE 改成 "offline"，在克隆的本站仓库里用 pip 包自带的小模型运行。'
                  if device == "cpu" else "请减小批量大小或训练数据量，或者换一块显存更大的 GPU。")
        raise RuntimeError(f"训练太重：在这台机器的 {device} 上至少要 {seconds / 60:.0f} 分钟、训练状态约 "
                           f"{memory_bytes / 2**30:.1f} GB，上限是 {max_minutes} 分钟和"
                           f"{'内存' if device == 'cpu' else '显存'}的 {max_memory_share:.0%}。{advice}")
    return seconds
