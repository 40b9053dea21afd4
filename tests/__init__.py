"""The test suite. Shared helpers are plain modules (factories.py, helpers.py, browser/helpers.py): pytest rewrites
their assertions as it does those of the test modules, so a failing check inside a helper explains itself."""

import pytest

pytest.register_assert_rewrite("tests.factories", "tests.helpers", "tests.browser.helpers", "tests.security.helpers")
