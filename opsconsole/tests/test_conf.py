from django.core import checks

from opsconsole.conf import AppSettings

demo_settings = AppSettings("OPSCONSOLE_TEST_DEMO", {"SIZE": 10})


def test_a_value_comes_from_the_namespace_dict_over_the_default(settings):
    assert demo_settings.SIZE == 10
    settings.OPSCONSOLE_TEST_DEMO = {"SIZE": 3}
    assert demo_settings.SIZE == 3


def test_an_unknown_name_is_an_attribute_error():
    try:
        demo_settings.SIZ  # noqa: B018
    except AttributeError as exc:
        assert "SIZ" in str(exc)
    else:
        raise AssertionError("a misspelt setting must not read as None")


def test_an_unknown_key_in_a_namespace_dict_fails_the_system_check(settings):
    settings.OPSCONSOLE_TEST_DEMO = {"SIZE": 3, "SIEZ": 4}
    errors = [e for e in checks.run_checks() if e.id == "opsconsole.E002"]
    assert len(errors) == 1 and "'SIEZ'" in errors[0].msg
