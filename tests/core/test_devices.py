"""Device names in the list of sessions and the traces, from the browser's User-Agent."""

import pytest
from flask_babel import force_locale

from core import origin

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Safari/605.1.15"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
)


@pytest.mark.parametrize(
    "ua, fr, en",
    [
        (FIREFOX_WINDOWS, "Firefox sur Windows", "Firefox on Windows"),
        (SAFARI_MAC, "Safari sur Mac OS X", "Safari on Mac OS X"),
        (IPHONE, "Mobile Safari sur iOS", "Mobile Safari on iOS"),
        (ANDROID_PHONE, "Chrome sur Android", "Chrome on Android"),
        ("curl/8.0", "curl", "curl"),
        ("", "Appareil inconnu", "Unknown device"),
    ],
)
def test_device_label_names_browser_and_system_in_the_page_language(app, ua, fr, en):
    with app.test_request_context("/"):
        with force_locale("fr"):
            assert origin.device_label(ua) == fr
        with force_locale("en"):
            assert origin.device_label(ua) == en


@pytest.mark.parametrize(
    "ua, handheld",
    [
        (IPHONE, True),
        (IPAD, True),
        (ANDROID_PHONE, True),
        (ANDROID_TABLET, True),
        (FIREFOX_WINDOWS, False),
        (SAFARI_MAC, False),
        ("curl/8.0", False),
        ("", False),
    ],
)
def test_phones_and_tablets_are_handheld(ua, handheld):
    assert origin.device_is_handheld(ua) is handheld
