# 画图用的中文字体。这个单元与仓库里的 notebooks/shared/chinese_font.py 完全相同（测试会核对）：
# 每个画中文图的 notebook 都带着一份，在 Colab 里单独打开也能运行。
import matplotlib.pyplot as plt
from matplotlib import font_manager


def use_chinese_font():
    """Pick an installed CJK font for Matplotlib, so Chinese labels are not boxes."""
    for path in font_manager.findSystemFonts():
        if "NotoSansCJK" in path or "NotoSansSC" in path:
            font_manager.fontManager.addfont(path)
    names = {f.name for f in font_manager.fontManager.ttflist}
    # Older Matplotlib reads only the first face of a .ttc collection, which is "JP";
    # it still has every simplified-Chinese glyph.
    for name in ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei",
                 "PingFang SC", "WenQuanYi Zen Hei", "SimHei"]:
        if name in names:
            plt.rcParams["font.sans-serif"] = [name]
            plt.rcParams["axes.unicode_minus"] = False  # 中文字体里常常没有数学负号
            return name
    # 没有中文字体也不该让「全部运行」停下：图照样画，只是中文显示成方框
    print("提示：没有找到中文字体，图里的中文会显示成方框。安装 Noto Sans CJK 后重启内核即可"
          "（Debian/Ubuntu：apt install fonts-noto-cjk；Windows、macOS 自带的中文字体也能用）")
    return None


print("中文字体：", use_chinese_font() or "无（见上面的提示）")
