#!/usr/bin/env python3
"""Offline stand-in for https://ci-files.testing.ansible.com/ansible-test/get-pip-24.2.py (that host is unreachable
here): installs pip from the pip 24.2 wheel next to this file, the way get-pip.py does from its embedded copy."""
import os
import sys

WHEEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pip-24.2-py3-none-any.whl")
sys.path.insert(0, WHEEL)
from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall"] + args))
