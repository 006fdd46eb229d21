"""Environment the in-process tests need before Django's settings load.

Loaded as a plugin (`-p tests.environment` in pytest.ini), ahead of
pytest-django, which reads the settings while pytest starts. DEBUG is off
by default (settings.py), so the settings demand a SECRET_KEY.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-key-never-used-outside-the-test-suite-0123456789")
