import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

TEXT1 = "我喜欢的水果是橙子和苹果"
TEXT2 = "相比苹果我更加喜欢国产的华为"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
