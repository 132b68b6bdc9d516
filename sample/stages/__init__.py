"""Demo stages contributed by the capabilities above the measurement chain.

Each module holds one stage function registered in the ``mujun.demo_stages``
entry-point group (``pyproject.toml``); its ``order`` attribute places it
after the built-in stages (generate 10, load 20, extract 30, occupancy 40).
"""
