import pytest

from core.identifiers import clean_nir, format_nir, mask_nir, nir_key, valid_nir, valid_rpps


def test_known_nir_key():
    # 1 84 12 75 123 456: 97 - (1841275123456 mod 97)
    assert nir_key("1841275123456") == 97 - (1841275123456 % 97)
    assert valid_nir("1841275123456" + f"{nir_key('1841275123456'):02d}")


def test_wrong_key_refused():
    good = "1841275123456" + f"{nir_key('1841275123456'):02d}"
    bad = good[:-2] + f"{(int(good[-2:]) % 97) + 1:02d}"
    assert not valid_nir(bad)


@pytest.mark.parametrize("dept,value", [("2A", 19), ("2B", 18)])
def test_corsica(dept, value):
    body = f"18405{dept}123456"
    expected = 97 - (int(body.replace(dept, str(value))) % 97)
    assert nir_key(body) == expected
    assert valid_nir(body + f"{expected:02d}")
    assert valid_nir((body + f"{expected:02d}").lower())


@pytest.mark.parametrize("value", ["", "123", "9841275123456xx", "18412751234567890", "58412751234561"])
def test_malformed(value):
    assert not valid_nir(value)


def test_spaces_and_dots_accepted():
    good = "1841275123456" + f"{nir_key('1841275123456'):02d}"
    spaced = format_nir(good)
    assert " " in spaced and valid_nir(spaced) and clean_nir(spaced) == good
    assert mask_nir(good).startswith("1 84") and good[5:13] not in mask_nir(good).replace(" ", "")


def test_rpps():
    assert valid_rpps("10101234567")
    assert not valid_rpps("1010123456") and not valid_rpps("1010123456a") and not valid_rpps("")
