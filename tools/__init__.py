"""Scripts that made the shipped data and measure the built site, and the browser harness they and the tests share.

Run them from the repository root as modules (`python -m tools.page_weight`),
so that `tools.browser` imports the same way everywhere.
"""
