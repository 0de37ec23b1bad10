"""embedkit benchmarks: peers side by side in one run, results as JSON + a Markdown table.

Run everything with ``python -m benchmarks all`` (or one suite by name); results land in
``benchmarks/results/``.
"""
