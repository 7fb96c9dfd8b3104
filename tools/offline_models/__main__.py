"""python -m tools.offline_models: convert (once) and verify every offline model now."""

from tools.offline_models import ensure_all

for name, path in ensure_all().items():
    print(f"{name}: {path}")
