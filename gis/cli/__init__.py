"""The ``mujun`` command line: the root group and the foundation's own subcommands.

Each subcommand lives in its own module and imports heavy libraries only
inside the command body, so ``mujun --help`` stays instant.
"""
