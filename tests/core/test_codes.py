from core import codes


def test_activation_code_shape_and_entropy(ctx):
    code = codes.activation_code()
    assert len(code) == 14 and code.count("-") == 2
    assert set(code.replace("-", "")) <= set(codes.ALPHABET)
    assert len({codes.activation_code() for _ in range(200)}) == 200


def test_keyed_hash_tolerates_typing(ctx):
    stored = codes.keyed_hash("K7QM-4ZTB-9H0D", "activation")
    assert codes.matches("k7qm 4ztb 9hod", stored, "activation")  # O read as 0, spaces, case
    assert not codes.matches("K7QM-4ZTB-9H0E", stored, "activation")
    assert not codes.matches("K7QM-4ZTB-9H0D", stored, "otp")  # purpose is part of the key
    assert stored != "K7QM4ZTB9H0D" and len(stored) == 64


def test_digits():
    assert all(len(codes.digits()) == 6 and codes.digits().isdigit() for _ in range(20))
